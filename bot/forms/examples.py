"""One worked example per form, shown to chat models before the real request.

A 135M-parameter instruct model follows a shape it has just seen far better than one it is
only told about: with an example haiku it writes three short lines; with an example scene it
writes NAME: lines instead of prose. Examples use other topics so they are not copied whole.
"""

from __future__ import annotations

from bot.forms.spec import Form, Length, PieceSpec, PoemForm

_HAIKU = "Grey waves fold and break\nsalt wind combs the empty dunes\none gull, then no gull"
_LIMERICK = (
    "A cat with a taste for the cream\n"
    "devised an ingenious scheme:\n"
    "she knocked down a cup,\n"
    "then lapped it all up,\n"
    "and purred like a cat in a dream."
)
_QUATRAIN = (
    "The lamp is lit, the kettle sings,\n"
    "the window holds the evening blue;\n"
    "of all the day's unhurried things\n"
    "the best is sitting here with you."
)
_SONNET = (
    "The harbour keeps the shape of every tide\n"
    "the way a pillow keeps a sleeper's head;\n"
    "the boats come home with nothing much to hide,\n"
    "their nets as grey and heavy as the bread.\n"
    "I walk the wall where fishermen have stood\n"
    "and counted out the hours in wind and rain,\n"
    "and every plank of old, salt-bitten wood\n"
    "has learned the patient grammar of the main.\n"
    "The gulls rehearse their quarrels overhead,\n"
    "the lighthouse turns its slow and steady eye,\n"
    "and all the things the sea has never said\n"
    "are written in the colour of the sky.\n"
    "So let me stay until the light is gone,\n"
    "and learn from water how to carry on."
)
_FREE = (
    "The station clock forgets the hour\n"
    "and no one minds.\n"
    "\n"
    "Trains lean in like old friends,\n"
    "breathing steam against the glass,\n"
    "and every stranger on the platform\n"
    "carries a small light home."
)
_STORY = (
    "Every morning the baker left one loaf on the step for nobody in particular. For years it "
    "vanished before dawn, and she never asked where it went. Then one winter the loaf stayed "
    "there, frozen and untouched, for three days. On the fourth day she followed the footprints "
    "that had stopped coming, down the lane to a cottage with a cold chimney, where an old man "
    "sat wrapped in every blanket he owned. She lit his stove, set the bread to warm, and from "
    "then on she baked two loaves: one for the step, and one she carried herself."
)
_SCRIPT = (
    "INT. RESTAURANT KITCHEN - NIGHT\n"
    "\n"
    "ANA: (tasting the soup) Nothing. It's like water.\n"
    "TOM: It's your grandmother's recipe. You've made it a thousand times.\n"
    "ANA: Then tonight I'll cook it from memory.\n"
    "(She ties her apron tighter. TOM hands her the ladle.)\n"
    "TOM: Service starts in ten minutes.\n"
    "ANA: Then we'd better start."
)

_POEM_EXAMPLES: dict[PoemForm, tuple[str, str]] = {
    PoemForm.HAIKU: ("the sea", _HAIKU),
    PoemForm.LIMERICK: ("a greedy cat", _LIMERICK),
    PoemForm.QUATRAIN: ("a quiet evening", _QUATRAIN),
    PoemForm.SONNET: ("a harbour town", _SONNET),
    PoemForm.FREE: ("a railway station", _FREE),
}


def example_for(spec: PieceSpec) -> tuple[PieceSpec, str] | None:
    """A request of the same form on another topic, and a good answer to it; None for forms
    whose shape is the user's own (continue, generate)."""
    if spec.form is Form.POEM:
        topic, answer = _POEM_EXAMPLES[spec.poem_form]
        return PieceSpec(
            form=Form.POEM, text=topic, poem_form=spec.poem_form, length=Length.SHORT
        ), answer
    if spec.form is Form.STORY:
        return PieceSpec(
            form=Form.STORY, text="a baker who leaves bread for strangers", length=Length.SHORT
        ), _STORY
    if spec.form is Form.SCRIPT:
        return PieceSpec(
            form=Form.SCRIPT,
            text="a chef loses her sense of taste",
            characters=("ANA", "TOM"),
            length=Length.SHORT,
        ), _SCRIPT
    return None
