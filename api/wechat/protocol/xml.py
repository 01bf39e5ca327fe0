"""Parsing WeChat callback XML safely, and rendering passive replies.

Parsing goes through defusedxml with DTDs forbidden: no entity expansion (billion laughs),
no external entities, no network access.  Every failure is a ``BadMessage`` subclass, which
the webhook maps to a 400 with a log line: never a 500, never a half-stored record.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

# Our own cap on how much resident text we keep; WeChat's own limit is far lower.
MAX_CONTENT_CHARS = 4000
# What WeChat sends and our columns hold (api/wechat/models.py); anything beyond is refused.
MAX_LENGTHS = {"ToUserName": 64, "FromUserName": 64,  # gh_ ids and OpenIDs: about 28
               "MsgType": 32, "Event": 64}  # wx_inbound.msg_type and .event
MAX_NUMBERS = {"CreateTime": 2**63 - 1,  # Unix seconds, kept in a BIGINT
               "MsgId": 2**64 - 1}  # a 64-bit number, kept as text in the dedupe key


class BadMessage(Exception):
    """The body is not a usable WeChat callback."""

    code = "bad_message"


class InvalidEncoding(BadMessage):
    code = "invalid_utf8"


class MalformedXml(BadMessage):
    code = "malformed_xml"


class ForbiddenXml(BadMessage):
    code = "forbidden_xml"


class MissingField(BadMessage):
    code = "missing_field"


class InvalidField(BadMessage):
    """A field too long, or a number out of range."""

    code = "invalid_field"


@dataclass(frozen=True)
class WeChatMessage:
    """A parsed callback.  ``fields`` keeps every top-level element as text."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msg_id(self) -> str:
        return self.fields.get("MsgId", "")

    @property
    def event(self) -> str:
        return self.fields.get("Event", "")

    @property
    def content(self) -> str:
        return self.fields.get("Content", "")

    @property
    def dedupe_key(self) -> str:
        # WeChat's documented rule: messages by MsgId, events by FromUserName + CreateTime.
        # The sender is part of a message's key too, so that one resident's MsgId (or a
        # forged one) cannot suppress another's message; a retry repeats both.  The event
        # and its key are added (hashed, to bound the length): a retry repeats them exactly,
        # while two different menu clicks in one second stay two events.
        if self.msg_type != "event" and self.msg_id:
            return f"msg:{self.from_user}:{self.msg_id}"
        return event_dedupe_key(self.from_user, self.create_time, self.event,
                                self.fields.get("EventKey", ""))


def event_dedupe_key(from_user: str, create_time: int | str, event: str, event_key: str) -> str:
    digest = hashlib.sha1(f"{event.lower()}\n{event_key}".encode()).hexdigest()[:12]
    return f"evt:{from_user}:{create_time}:{digest}"


def decode_body(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEncoding(f"body is not UTF-8 at byte {exc.start}") from exc


def parse_xml(text: str) -> Element:
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except DefusedXmlException as exc:
        raise ForbiddenXml(type(exc).__name__) from exc
    except SafeET.ParseError as exc:
        raise MalformedXml(str(exc)) from exc
    except ValueError as exc:  # e.g. an XML declaration with an odd encoding
        raise MalformedXml(str(exc)) from exc
    if root.tag != "xml":
        raise MalformedXml(f"root element is <{root.tag[:20]}>, expected <xml>")
    return root


def top_fields(root: Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for child in root:
        if len(child):  # nested blocks (e.g. ScanCodeInfo) are not used by us
            continue
        out[child.tag] = (child.text or "").strip() if child.tag != "Content" else (child.text or "")
    return out


def parse_message(text: str) -> WeChatMessage:
    fields = top_fields(parse_xml(text))
    missing = [n for n in ("ToUserName", "FromUserName", "CreateTime", "MsgType")
               if not fields.get(n)]
    if missing:
        raise MissingField(", ".join(missing))
    msg_type = fields["MsgType"].lower()
    if msg_type == "event" and not fields.get("Event"):
        raise MissingField("Event")
    if msg_type not in ("event",) and not fields.get("MsgId"):
        raise MissingField("MsgId")
    for name, limit in MAX_LENGTHS.items():
        if len(fields.get(name, "")) > limit:
            raise InvalidField(f"{name} longer than {limit} characters")
    numbers = {name: _number(fields, name, maximum) for name, maximum in MAX_NUMBERS.items()
               if name in fields and (name != "MsgId" or msg_type != "event")}
    if "Content" in fields and len(fields["Content"]) > MAX_CONTENT_CHARS:
        fields["Content"] = fields["Content"][:MAX_CONTENT_CHARS]
    return WeChatMessage(to_user=fields["ToUserName"], from_user=fields["FromUserName"],
                         create_time=numbers["CreateTime"], msg_type=msg_type, fields=fields)


def _number(fields: dict[str, str], name: str, maximum: int) -> int:
    value = fields[name]
    # ASCII digits only: int() would also take "-1", " 1", "1_0" and full-width digits.
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(maximum)) \
            or int(value) > maximum:
        raise InvalidField(f"{name} is not a number from 0 to {maximum}")
    return int(value)


def extract_encrypt(text: str) -> str:
    """The ``<Encrypt>`` payload of a safe/compatible-mode body."""
    fields = top_fields(parse_xml(text))
    encrypt = fields.get("Encrypt", "")
    if not encrypt:
        raise MissingField("Encrypt")
    return encrypt


def _cdata(value: str) -> str:
    # "]]>" cannot appear inside CDATA: split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text_reply(to_user: str, from_user: str, content: str,
                      create_time: int | None = None) -> str:
    create_time = int(time.time()) if create_time is None else create_time
    return ("<xml>"
            f"<ToUserName>{_cdata(to_user)}</ToUserName>"
            f"<FromUserName>{_cdata(from_user)}</FromUserName>"
            f"<CreateTime>{create_time}</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType>"
            f"<Content>{_cdata(content)}</Content>"
            "</xml>")


def render_message(fields: dict[str, str]) -> str:
    """Build a callback body from fields (the simulator's side of the protocol)."""
    parts = []
    for name, value in fields.items():
        if name in ("CreateTime", "MsgId", "Location_X", "Location_Y", "Scale"):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            parts.append(f"<{name}>{_cdata(str(value))}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"
