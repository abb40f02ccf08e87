"""The tagline rule, in one function the model, the admin form and the API share."""

import unicodedata

from django.core.exceptions import ValidationError

TAGLINE_MAX_LENGTH = 48

# Explicit bidirectional formatting: embeddings and overrides (U+202A..U+202E)
# and isolates (U+2066..U+2069). They reorder the text around them, so a
# tagline could make the username or anything after it read differently
# ("Trojan Source"). Implicit marks (LRM, RLM, ALM) stay allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def clean_tagline(value: str | None) -> str | None:
    """Return the tagline as stored, or raise ``ValidationError`` saying why not.

    The text is NFC-normalised and trimmed; empty becomes ``None``. Any Unicode
    is accepted (emoji with ZWJ, skin tones and flags, CJK, right-to-left
    scripts, combining marks) except control characters (NUL included), lone
    surrogates and bidirectional embedding/override/isolate characters. The
    result has at most 48 code points, which is how PostgreSQL's
    ``varchar(48)`` counts.
    """
    if value is None:
        return None
    for index, char in enumerate(value, start=1):
        if char == "\x00":
            raise ValidationError(
                "Tagline can't contain the NUL character (at position %(index)d).",
                code="tagline_nul",
                params={"index": index},
            )
        if unicodedata.category(char) == "Cs":
            raise ValidationError(
                "Tagline can't contain a lone surrogate (%(char)s at position "
                "%(index)d); send text as valid UTF-8.",
                code="tagline_surrogate",
                params={"char": f"U+{ord(char):04X}", "index": index},
            )
        if char in BIDI_CONTROLS:
            raise ValidationError(
                "Tagline can't contain bidirectional override or isolate "
                "characters (%(char)s at position %(index)d).",
                code="tagline_bidi_control",
                params={"char": _describe(char), "index": index},
            )
    # Trimming first lets a trailing newline from a text box through; any
    # control character left inside the text is refused.
    value = unicodedata.normalize("NFC", value).strip()
    for index, char in enumerate(value, start=1):
        if unicodedata.category(char) == "Cc":
            raise ValidationError(
                "Tagline can't contain control characters (%(char)s at position "
                "%(index)d).",
                code="tagline_control_character",
                params={"char": _describe(char), "index": index},
            )
    if not value:
        return None
    if len(value) > TAGLINE_MAX_LENGTH:
        raise ValidationError(
            "Tagline can be at most %(limit)d characters; this one has %(length)d.",
            code="tagline_too_long",
            params={"limit": TAGLINE_MAX_LENGTH, "length": len(value)},
        )
    return value
