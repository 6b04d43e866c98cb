"""The event loop the bot runs on: uvloop where it is installed (Linux and macOS), else asyncio's.

uvloop runs the loop, its sockets and its timers in C (libuv): a turn takes less CPU on it
(the measurements are in docs/performance.md, step 22). The tests run on the same loop
(tests/conftest.py), so what is tested is what serves.
"""

from __future__ import annotations

import asyncio
from types import ModuleType

uvloop: ModuleType | None
try:
    import uvloop
except ImportError:  # Windows: uvloop has no build there
    uvloop = None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop of the kind the bot serves on."""
    if uvloop is None:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    """A policy whose loops are of the kind the bot serves on (for pytest-asyncio)."""
    if uvloop is None:
        return asyncio.DefaultEventLoopPolicy()
    policy: asyncio.AbstractEventLoopPolicy = uvloop.EventLoopPolicy()
    return policy


def loop_name() -> str:
    """'uvloop' or 'asyncio': the kind of loop `new_event_loop` makes."""
    return "asyncio" if uvloop is None else "uvloop"
