"""What a flow may be started with: the fields it declares, typed, and nothing else.

A flow started by a card button gets the button's data as its options, and the options are kept
in the dialog state until the flow ends. So each flow declares a `FlowOptions` model
(`options_model` on the dialog); the root dialog validates the button's data against it and
keeps only the declared fields, as plain JSON. Anything else a card (or a caller) sends is
dropped, and data that does not fit gets a short answer instead of a flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from botbuilder.dialogs import Dialog
from pydantic import BaseModel, ConfigDict, ValidationError


class FlowOptions(BaseModel):
    """The options of a flow that takes none from its button: the base of every flow's model."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="ignore", frozen=True, str_max_length=500)

    @classmethod
    def from_card(cls, data: Mapping[str, Any]) -> Self | None:
        """The declared fields of a button's data; None when they do not fit."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError:
            return None

    def stored(self) -> dict[str, Any]:
        """The options as the dialog state keeps them: a dict of JSON values."""
        return self.model_dump(mode="json")


def options_model_of(dialog: Dialog) -> type[FlowOptions]:
    """The flow's declared options model (`options_model`), or `FlowOptions`: nothing."""
    model = getattr(dialog, "options_model", FlowOptions)
    if not (isinstance(model, type) and issubclass(model, FlowOptions)):
        raise TypeError(f"{type(dialog).__name__}.options_model must be a FlowOptions model")
    return model
