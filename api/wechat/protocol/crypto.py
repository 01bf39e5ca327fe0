"""Callback authentication and message encryption, with wechatpy's own primitives.

Three modes, as configured in the WeChat console:
* plaintext: ``signature`` over (token, timestamp, nonce); body is plain XML.
* compatible: plain fields and ``<Encrypt>`` both present; ``encrypt_type=aes`` in the URL.
* safe: only ``<Encrypt>``; ``msg_signature`` over (token, timestamp, nonce, Encrypt).

With an AES key configured (safe or compatible mode) every message must be encrypted: the
plaintext fields of a compatible-mode body are ignored and a plaintext-only POST is refused.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature


class CallbackAuthError(Exception):
    """The request is not provably from WeChat: answer 403 and nothing else."""


class BadSignature(CallbackAuthError):
    pass


class StaleTimestamp(CallbackAuthError):
    pass


class DecryptError(CallbackAuthError):
    pass


class PlaintextRefused(CallbackAuthError):
    pass


@dataclass(frozen=True)
class CallbackParams:
    signature: str
    timestamp: str
    nonce: str
    echostr: str = ""
    encrypt_type: str = ""
    msg_signature: str = ""

    @classmethod
    def from_query(cls, query: dict[str, str]) -> CallbackParams:
        return cls(signature=query.get("signature", ""), timestamp=query.get("timestamp", ""),
                   nonce=query.get("nonce", ""), echostr=query.get("echostr", ""),
                   encrypt_type=query.get("encrypt_type", "").lower(),
                   msg_signature=query.get("msg_signature", ""))

    @property
    def encrypted(self) -> bool:
        return self.encrypt_type == "aes"


class CallbackAuthenticator:
    def __init__(self, token: str, app_id: str, aes_key: str = "",
                 tolerance_s: int = 300) -> None:
        self.token = token
        self.app_id = app_id
        self.tolerance_s = tolerance_s
        # An empty key means plaintext mode; wechatpy asserts a 43-char key otherwise.
        self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None

    @property
    def safe_mode(self) -> bool:
        return self._crypto is not None

    def check(self, params: CallbackParams, now: float | None = None) -> None:
        """Verify ``signature`` and the timestamp window (every GET and POST)."""
        if not self.token or not params.signature or not params.timestamp or not params.nonce:
            raise BadSignature("missing signature parameters")
        try:
            check_signature(self.token, params.signature, params.timestamp, params.nonce)
        except InvalidSignatureException as exc:
            raise BadSignature("signature mismatch") from exc
        try:
            ts = int(params.timestamp)
        except ValueError as exc:
            raise StaleTimestamp("timestamp is not a number") from exc
        now = time.time() if now is None else now
        # Replayed captures of old callbacks are refused.
        if abs(now - ts) > self.tolerance_s:
            raise StaleTimestamp(f"timestamp off by {int(now - ts)} s")

    def require_encryption(self, params: CallbackParams) -> None:
        """With an AES key only encrypted messages count: ``signature`` covers token,
        timestamp and nonce but not the body, and any logged callback URL shows a valid set,
        so only ``msg_signature`` over the ciphertext binds what a message says."""
        if self._crypto is not None and not params.encrypted:
            raise PlaintextRefused(f"plaintext message (encrypt_type={params.encrypt_type!r}) "
                                   "with an AES key configured")

    def decrypt(self, params: CallbackParams, encrypt: str) -> str:
        """Check ``msg_signature`` and decrypt the ``<Encrypt>`` payload into inner XML."""
        if self._crypto is None:
            raise DecryptError("encrypted callback but no AES key configured")
        if not params.msg_signature:
            raise BadSignature("missing msg_signature")
        try:
            return self._crypto.decrypt_message({"Encrypt": encrypt}, params.msg_signature,
                                                params.timestamp, params.nonce)
        except InvalidSignatureException as exc:
            raise BadSignature("msg_signature mismatch") from exc
        except InvalidAppIdException as exc:
            raise DecryptError("payload is for another app id") from exc
        except Exception as exc:  # bad base64/padding/length all mean the same
            raise DecryptError(f"cannot decrypt payload: {type(exc).__name__}") from exc

    def encrypt_reply(self, xml: str, nonce: str, timestamp: str | None = None) -> str:
        if self._crypto is None:
            raise DecryptError("no AES key configured")
        return self._crypto.encrypt_message(xml, nonce, timestamp)
