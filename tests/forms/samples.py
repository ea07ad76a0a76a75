"""Specs and realistic model outputs shared by the forms tests."""

from __future__ import annotations

from dataclasses import dataclass

from bot.forms import Form, Genre, Length, PieceSpec, PoemForm

HAIKU = PieceSpec(Form.POEM, "autumn", poem_form=PoemForm.HAIKU)
LIMERICK = PieceSpec(Form.POEM, "a cat", poem_form=PoemForm.LIMERICK)
SONNET = PieceSpec(Form.POEM, "the sea", poem_form=PoemForm.SONNET)
QUATRAIN = PieceSpec(Form.POEM, "rain", poem_form=PoemForm.QUATRAIN)
FREE = PieceSpec(Form.POEM, "the sea")
STORY = PieceSpec(Form.STORY, "a dragon who hoards books", genre=Genre.FANTASY)
SCRIPT = PieceSpec(Form.SCRIPT, "two thieves argue in a vault", characters=("Alice", "Bob"))
CONTINUE = PieceSpec(Form.CONTINUE, "The door creaked open.")
GENERATE = PieceSpec(Form.GENERATE, "Once upon a time", length=Length.SHORT)

ALL_SPECS = [HAIKU, LIMERICK, SONNET, QUATRAIN, FREE, STORY, SCRIPT, CONTINUE, GENERATE]

AUTUMN_HAIKU = "Crimson leaves falling\nwhispers of the cooling wind\nthe old pond is still"
CAT_LIMERICK = (
    "There once was a cat from Peru\n"
    "Who dreamed he was eating a shoe\n"
    "He woke with a fright\n"
    "In the middle of night\n"
    "And found that his dream had come true"
)
SEA_SONNET_LINES = [
    "The sea returns what summer left behind,",
    "a shell, a glove, a letter washed of ink;",
    "it keeps the rest, and never seems to mind",
    "how much of us it swallows at the brink.",
    "I walked the tideline when the gulls were loud",
    "and counted every wave that would not stay;",
    "the water wore the colour of a cloud",
    "and took the cloud and carried it away.",
    "So let the harbour lights grow dim and old,",
    "and let the moorings rust beneath the pier;",
    "the sea will hold whatever it can hold",
    "and give it back some distant, other year.",
    "  Though every shore is shaped by what it lost,",
    "  the tide comes home, whatever it has cost.",
]
SEA_FREE_VERSE = (
    "The sea is wide\nthe sea is deep\n\nI walk along\nthe shore to sleep\nand dream of salt"
)


@dataclass(frozen=True)
class Sample:
    """A model's output for ``spec`` and the piece ``finish`` should make of it (whole run)."""

    name: str
    spec: PieceSpec
    generated: str
    expected: str


SAMPLES = [
    Sample(
        "base haiku then next header",
        HAIKU,
        AUTUMN_HAIKU + "\n\nA haiku about winter\nsnow on the rooftops\n",
        AUTUMN_HAIKU,
    ),
    Sample(
        "chat haiku with preamble, title and remark",
        HAIKU,
        "Sure! Here's a haiku about autumn:\n\n**Autumn Leaves**\n\n"
        + AUTUMN_HAIKU
        + "\n\nI hope you enjoy it!",
        AUTUMN_HAIKU,
    ),
    Sample(
        "base haiku on one line",
        HAIKU,
        "crimson leaves / whispers of wind / the pond is still\nPosted by admin at 3:42 PM",
        "crimson leaves\nwhispers of wind\nthe pond is still",
    ),
    Sample(
        "haiku in a code fence",
        HAIKU,
        "```\n" + AUTUMN_HAIKU + "\n```\n",
        AUTUMN_HAIKU,
    ),
    Sample(
        "double-spaced haiku keeps its first line",
        HAIKU,
        "Crimson leaves falling\n\nwhispers of the cooling wind\n\nthe old pond is still\n\n",
        AUTUMN_HAIKU,
    ),
    Sample(
        "limerick runs into the next one",
        LIMERICK,
        CAT_LIMERICK + "\nThere once was a dog from Kent\n",
        CAT_LIMERICK,
    ),
    Sample(
        "chat limerick in quotes with a title line",
        LIMERICK,
        "Title: The Dreaming Cat\n\n\u201c" + CAT_LIMERICK + "\u201d\n\nThis limerick plays on",
        CAT_LIMERICK,
    ),
    Sample(
        "sonnet in stanzas",
        SONNET,
        "\n".join(SEA_SONNET_LINES[:4])
        + "\n\n"
        + "\n".join(SEA_SONNET_LINES[4:8])
        + "\n\n"
        + "\n".join(SEA_SONNET_LINES[8:])
        + "\n\nSonnet 2\n",
        "\n".join(line.strip() for line in SEA_SONNET_LINES[:4])
        + "\n\n"
        + "\n".join(SEA_SONNET_LINES[4:8])
        + "\n\n"
        + "\n".join(line.strip() for line in SEA_SONNET_LINES[8:]),
    ),
    Sample(
        "quatrain with windows line endings",
        QUATRAIN,
        "The rain is soft   \r\nupon the pane,\r\nit comes and goes\r\nand comes again.\r\nIt",
        "The rain is soft\nupon the pane,\nit comes and goes\nand comes again.",
    ),
    Sample(
        "free verse followed by a new titled poem",
        FREE,
        SEA_FREE_VERSE + "\n\nThe Mountain\n\nA mountain high above the plain\n",
        SEA_FREE_VERSE,
    ),
    Sample(
        "free verse then a blank gap and web text",
        FREE,
        SEA_FREE_VERSE + "\n\n\n\nComments (3)\n",
        SEA_FREE_VERSE,
    ),
    Sample(
        "story ends with The End",
        STORY,
        "Once upon a time there was a dragon. He loved books. The End.\n\nPosted by Ann",
        "Once upon a time there was a dragon. He loved books. The End.",
    ),
    Sample(
        "chat story with a bold title and a closing remark",
        STORY,
        "**The Dragon's Library**\n\nOnce upon a time, Mr. Smith met a dragon.\n\n"
        "It guarded every book.\n\nI hope you enjoyed this story!",
        "Once upon a time, Mr. Smith met a dragon.\n\nIt guarded every book.",
    ),
    Sample(
        "story falls into a loop",
        STORY,
        "He ran. He ran and ran and ran. He ran and ran and ran. He ran and ran and ran. He",
        "He ran. He ran and ran and ran.",
    ),
    Sample(
        "script ends with FADE OUT and restarts",
        SCRIPT,
        "INT. BANK VAULT - NIGHT\n\nALICE: We need to go.\nBOB: (whispering) Not yet.\n"
        "FADE OUT.\n\nSCREENPLAY\n\nLOGLINE: a heist",
        "INT. BANK VAULT - NIGHT\n\nALICE: We need to go.\nBOB: (whispering) Not yet.\nFADE OUT.",
    ),
    Sample(
        "chat continuation that repeats the user's text",
        CONTINUE,
        "The door creaked open. A cold wind blew in. She shivered.<|im_end|>",
        "A cold wind blew in. She shivered.",
    ),
    Sample(
        "raw generation stops at end of text",
        GENERATE,
        " upon a time, there was a king.\n\n\n\nHe had three sons.<|endoftext|>Copyright 2009",
        "upon a time, there was a king.\n\nHe had three sons.",
    ),
]
