"""zxcvbn's feedback, as msgids of our catalogs: the library answers in English, and people read
the reason their password is refused in their own language."""

from __future__ import annotations

from app.i18n import N_

# Every warning and suggestion zxcvbn 4.x gives (zxcvbn/feedback.py), marked for extraction.
ZXCVBN_MESSAGES = frozenset(
    {
        N_("A word by itself is easy to guess."),
        N_("Add another word or two. Uncommon words are better."),
        N_("Avoid dates and years that are associated with you."),
        N_("Avoid recent years."),
        N_("Avoid repeated words and characters."),
        N_("Avoid sequences."),
        N_("Avoid years that are associated with you."),
        N_("Capitalization doesn't help very much."),
        N_("Common names and surnames are easy to guess."),
        N_("Dates are often easy to guess."),
        N_("Names and surnames by themselves are easy to guess."),
        N_("No need for symbols, digits, or uppercase letters."),
        N_("Recent years are easy to guess."),
        N_('Repeats like "aaa" are easy to guess.'),
        N_("Reversed words aren't much harder to guess."),
        N_('Sequences like "abc" or "6543" are easy to guess.'),
        N_("Short keyboard patterns are easy to guess."),
        N_("Straight rows of keys are easy to guess."),
        N_("This is a top-10 common password."),
        N_("This is a top-100 common password."),
        N_("This is a very common password."),
        N_("This is similar to a commonly used password."),
        N_("Use a few words, avoid common phrases."),
        N_("Use a longer keyboard pattern with more turns."),
    }
)
TOO_GUESSABLE = N_("This password is too easy to guess: add another word or two.")


def reason(warning: str, suggestions: list[str]) -> str:
    """The msgid that best says why zxcvbn found a password weak."""
    for text in (warning, *suggestions):
        if text in ZXCVBN_MESSAGES:
            return text
    return TOO_GUESSABLE
