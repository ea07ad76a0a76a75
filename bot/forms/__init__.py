"""The creative forms: what a user can ask for, how to prompt for it and how to tidy the output.

Pure domain logic: no model, tokenizer or Discord code is imported here.
"""

from bot.forms.checker import fit_label
from bot.forms.cleanup import finish, stable_prefix
from bot.forms.constraint import constraint_for
from bot.forms.line_templates import with_less_context
from bot.forms.repetition import repetition_cut
from bot.forms.spec import Form, Genre, Length, PieceSpec, PoemForm
from bot.forms.stops import stop_index
from bot.forms.templates import ChatMessage, Prompt, build_prompt, default_max_new_tokens

__all__ = [
    "ChatMessage",
    "Form",
    "Genre",
    "Length",
    "PieceSpec",
    "PoemForm",
    "Prompt",
    "build_prompt",
    "constraint_for",
    "default_max_new_tokens",
    "finish",
    "fit_label",
    "repetition_cut",
    "stable_prefix",
    "stop_index",
    "with_less_context",
]
