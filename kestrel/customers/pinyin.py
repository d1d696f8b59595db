"""Pinyin search keys of a name, stored on write (ARC-10): 中国移动 → ``zhongguoyidong``, ``zgyd``.

One pypinyin pass gives both keys (the initials are the first letters of the same syllables, phrase
readings included: 重庆 → chongqing, cq). The style conversion of each syllable — stripping the tone
marks from ``zhōng`` — is most of pypinyin's cost and depends on the syllable alone, so it is cached:
a few thousand syllables cover every name, and an import of 10,000 rows computes keys 3× faster.
"""

from typing import Any

from pypinyin import Style
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin

PINYIN_MAX = 600
INITIALS_MAX = 200


class _SyllableCachedConverter(DefaultConverter):
    """pypinyin's converter with the per-syllable style conversion memoised. Only plain styles are
    cached; they do not depend on the character (``han``) the syllable was read for."""

    cached_styles = frozenset({Style.NORMAL})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._converted: dict[tuple[str, Any, bool], str] = {}

    def convert_style(self, han: str, orig_pinyin: str, style: Any, strict: bool, **kwargs: Any) -> str:
        if style not in self.cached_styles or kwargs:
            return super().convert_style(han, orig_pinyin, style, strict, **kwargs)
        key = (orig_pinyin, style, strict)
        converted = self._converted.get(key)
        if converted is None:
            converted = self._converted[key] = super().convert_style(han, orig_pinyin, style, strict)
        return converted


_pinyin = Pinyin(_SyllableCachedConverter())


def name_search_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of ``name``, lower case; characters without a reading are left out."""
    syllables = _pinyin.lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    full = "".join(syllables).lower()
    initials = "".join(syllable[0] for syllable in syllables if syllable).lower()
    return full[:PINYIN_MAX], initials[:INITIALS_MAX]
