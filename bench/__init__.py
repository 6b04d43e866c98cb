"""Throughput benchmark for issue 4: Wegwijzer against a stock echo bot and a plain aiohttp floor.

Run it with `make bench` (or `.venv/bin/python -m bench --help` for the options). It needs `wrk`
on the PATH and, for the PostgreSQL run, a server on 127.0.0.1:5432 that lets `postgres` in
without a password; without one that run is skipped. It is never part of `make test`.

One run starts, one after the other, three servers as their own processes (`python -m bench.serve
<kind>`): `floor` (aiohttp posting one reply with a pooled client session), `echo` (the stock
botbuilder echo bot) and `wegwijzer` (the real bot, on SQLite and on PostgreSQL). `wrk` drives
Teams-shaped turns at each (bench/traffic.lua), and every reply goes to a fake Bot Connector on
loopback (also its own process). The run prints a table, the ratios and the issue's targets and
writes everything to `bench-results/bench-<UTC timestamp>.json`.

Authentication is off for the benchmark (no APP_ID), so token validation and token fetching are
not measured; the tenant guard, typing indicator, SQL state, dialogs and card rendering are on.
"""
