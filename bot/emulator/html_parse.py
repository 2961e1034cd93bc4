"""Telegram's HTML parse mode: turn `<b>Hi</b> &amp; bye` into plain text plus message entities.

A close port of tdlib's `parse_html`, so the emulator refuses exactly the markup Telegram refuses (an
unescaped `<`, `<br>`, an unclosed `<b>`) with the same "can't parse entities" wording and byte offsets.
Entity offsets are in UTF-16 code units, as in the Bot API. It must not render HTML; see entities.py.
"""

from dataclasses import dataclass

from bot.emulator.errors import ApiError, Json, bad_request

_VALID_TAGS = frozenset(
    {"a", "b", "i", "s", "u", "em", "pre", "del", "ins", "code", "span", "strong", "strike"}
    | {"tg-emoji", "blockquote", "tg-spoiler"}
)
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# tdlib treats the end of its NUL-terminated buffer as whitespace; "\0" plays that part here.
_SPACES = frozenset(" \t\r\n\0\v")


@dataclass(kw_only=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_index: int


def utf16_length(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def _error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.result: list[str] = []
        self.utf16 = 0
        self.open: list[_OpenTag] = []
        self.entities: list[Json] = []

    def at(self, index: int) -> str:
        return self.source[index] if index < len(self.source) else "\0"

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8", "surrogatepass"))

    def append(self, text: str) -> None:
        self.result.append(text)
        self.utf16 += utf16_length(text)

    def decode_entity(self, index: int) -> tuple[str, int] | None:
        """The character an `&...` reference at `index` stands for and where it ends; None if not one."""
        end = index + 1
        if self.at(end) == "#":
            end += 1
            hexadecimal = self.at(end) == "x"
            end += 1 if hexadecimal else 0
            digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
            code = 0
            while self.at(end) in digits and self.at(end) != "\0":
                code = code * (16 if hexadecimal else 10) + int(self.at(end), 16)
                end += 1
                if code >= 0x10FFFF:
                    return None
            if code == 0 or 0xD800 <= code <= 0xDFFF:
                return None
            char = chr(code)
        else:
            while self.at(end).isascii() and self.at(end).isalpha():
                end += 1
            name = self.source[index + 1 : end]
            if name not in _NAMED_ENTITIES:
                return None
            char = _NAMED_ENTITIES[name]
        return char, end + 1 if self.at(end) == ";" else end

    def parse(self) -> tuple[str, list[Json]]:
        index = 0
        while index < len(self.source):
            char = self.source[index]
            if char == "&":
                decoded = self.decode_entity(index)
                if decoded is not None:
                    self.append(decoded[0])
                    index = decoded[1]
                    continue
            if char != "<":
                self.append(char)
                index += 1
                continue
            index = self.end_tag(index) if self.at(index + 1) == "/" else self.start_tag(index)
        if self.open:
            raise _error(f'Can\'t find end tag corresponding to start tag "{self.open[-1].name}"')
        return "".join(self.result), self.entities

    def start_tag(self, begin: int) -> int:
        i = begin + 1
        tag_end = i
        while self.at(tag_end) not in _SPACES and self.at(tag_end) != ">":
            tag_end += 1
        if self.at(tag_end) == "\0":
            raise _error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = self.source[i:tag_end].lower()
        if name not in _VALID_TAGS:
            raise _error(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        argument = ""
        i = tag_end
        while self.at(i) != ">":
            while self.at(i) != "\0" and self.at(i) in _SPACES:
                i += 1
            if self.at(i) == ">":
                break
            name_begin = i
            while self.at(i) not in _SPACES and self.at(i) not in "=>":
                i += 1
            attribute = self.source[name_begin:i].lower()
            if not attribute:
                raise _error(
                    f'Empty attribute name in the tag "{name}" at byte offset {self.byte_offset(begin)}'
                )
            while self.at(i) != "\0" and self.at(i) in _SPACES:
                i += 1
            if self.at(i) != "=":
                if name == "blockquote" and attribute == "expandable":
                    argument = "1"
                    continue
                raise _error(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {self.byte_offset(begin)}"
                )
            i += 1
            while self.at(i) != "\0" and self.at(i) in _SPACES:
                i += 1
            if self.at(i) == "\0":
                raise _error(f'Unclosed start tag "{name}" at byte offset {self.byte_offset(begin)}')
            value, i = self.attribute_value(i)
            if self.at(i) == "\0":
                raise _error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            argument = self.tag_argument(name, attribute, value, argument)
        if name == "span" and argument != "spoiler":
            raise _error(f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}')
        self.open.append(
            _OpenTag(name=name, argument=argument, utf16_offset=self.utf16, text_index=len(self.result))
        )
        return i + 1

    def attribute_value(self, i: int) -> tuple[str, int]:
        quote = self.at(i)
        if quote not in {"'", '"'}:
            # An unquoted name token: letters, digits, periods and hyphens.
            token_begin = i
            while self.at(i).isascii() and (self.at(i).isalnum() or self.at(i) in ".-"):
                i += 1
            if self.at(i) not in _SPACES and self.at(i) != ">":
                raise _error(f"Unexpected end of name token at byte offset {self.byte_offset(token_begin)}")
            return self.source[token_begin:i].lower(), i
        i += 1
        value: list[str] = []
        while self.at(i) != quote and self.at(i) != "\0":
            decoded = self.decode_entity(i) if self.at(i) == "&" else None
            if decoded is not None:
                value.append(decoded[0])
                i = decoded[1]
            else:
                value.append(self.at(i))
                i += 1
        if self.at(i) == quote:
            i += 1
        return "".join(value), i

    @staticmethod
    def tag_argument(name: str, attribute: str, value: str, current: str) -> str:
        if name == "a" and attribute == "href":
            return value
        if name == "code" and attribute == "class" and value.startswith("language-"):
            return value.removeprefix("language-")
        if name == "span" and attribute == "class" and value.startswith("tg-"):
            return value.removeprefix("tg-")
        if name == "tg-emoji" and attribute == "emoji-id":
            return value
        return current

    def end_tag(self, begin: int) -> int:
        if not self.open:
            raise _error(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        i = begin + 2
        while self.at(i) not in _SPACES and self.at(i) != ">":
            i += 1
        end_name = self.source[begin + 2 : i]
        while self.at(i) != "\0" and self.at(i) in _SPACES:
            i += 1
        if self.at(i) != ">":
            raise _error(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        tag = self.open.pop()
        if end_name and end_name != tag.name:
            raise _error(
                f'Unmatched end tag at byte offset {self.byte_offset(begin)}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        self.close(tag)
        return i + 1

    def close(self, tag: _OpenTag) -> None:
        length = self.utf16 - tag.utf16_offset
        if length == 0:
            return
        entity: Json = {"offset": tag.utf16_offset, "length": length}
        if tag.name in _SIMPLE_TAGS or (tag.name == "span" and tag.argument == "spoiler"):
            entity["type"] = _SIMPLE_TAGS.get(tag.name, "spoiler")
            if tag.name == "code" and tag.argument:
                entity["language"] = tag.argument
        elif tag.name == "a":
            url = tag.argument or "".join(self.result[tag.text_index :])
            entity.update(type="text_link", url=url)
        elif tag.name == "pre":
            entity["type"] = "pre"
            self._absorb_code_language(entity)
        elif tag.name == "blockquote":
            entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
        else:  # tg-emoji
            if not tag.argument.isdigit():
                raise _error("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        self.entities.append(entity)

    def _absorb_code_language(self, pre: Json) -> None:
        """`<pre><code class="language-x">` is one pre entity with a language, as in Telegram."""
        for entity in reversed(self.entities):
            same_span = entity["offset"] == pre["offset"] and entity["length"] == pre["length"]
            if entity["type"] == "code" and same_span:
                if "language" in entity:
                    pre["language"] = entity["language"]
                self.entities.remove(entity)
                return


def parse_html(source: str) -> tuple[str, list[Json]]:
    """Plain text and entities (sorted by offset) of Telegram-HTML `source`; ApiError 400 on bad markup."""
    text, entities = _Parser(source).parse()
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return text, entities
