"""The telegram stack: link layer -> ELL -> AFL -> TPL/security -> APL records -> drivers -> one dict.

:class:`TelegramDecoder` is stateful across telegrams: it learns compact-frame formats from full frames
(the meter sends a full frame now and then and compact ones in between) and holds the keys.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import replace

from .app.compact import expand_compact, format_signature, record_headers
from .app.records import parse_apl
from .crc import crc16_en13757
from .drivers import apply_drivers
from .errors import DecodeError, DecryptionError, NoKeyError, TruncatedError, UnknownCIError
from .frame import Frame
from .link.afl import parse_afl
from .link.dll import LinkHeader, id_from_wire, normalize_frame, parse_link_header
from .link.ell import (
    ENC_AES_CTR,
    ENC_NONE,
    ExtendedLinkHeader,
    check_payload_crc,
    decrypt_ell_payload,
    parse_ell,
)
from .security.crypto import (
    KDF_ENC_METER_TO_OTHER,
    KDF_MAC_METER_TO_OTHER,
    aes_cbc_decrypt,
    aes_cmac,
    kdf_a,
)
from .security.diehl import DIEHL_MANUFACTURERS as DIEHL_FAMILY
from .security.diehl import decode_real_data, is_real_data
from .security.keys import KeyStore
from .security.tpl import parse_tpl
from .tables.ci_fields import AFL_CI, ELL_CI, MANUFACTURER_CI, TPL_CI
from .tables.compact_formats import KNOWN_FORMATS
from .tables.manufacturers import MANUFACTURER_NAMES, manufacturer_code
from .telegram import Identity, Telegram

log = logging.getLogger(__name__)

#: Publicly known default keys, tried only when no key is configured for a meter (mode 5):
#: (name reported in the output, key, manufacturers it applies to or () for any).
DEFAULT_KEYS: tuple[tuple[str, bytes, tuple[str, ...]], ...] = (
    ("all-zero default key", bytes(16), ()),  # e.g. Apator overlays as shipped
    ("Diehl default key", bytes.fromhex("51728910E66D83F8" * 2), DIEHL_FAMILY),
)
MAX_COMPACT_FORMATS = 20000  # formats known at once: bounded whatever garbage the air brings
MAX_UNLEARNED_FORMATS = 20000  # full frames kept for format learning (the newest per meter and length)
MAX_REMEMBERED_METERS = 20000  # meters whose remembered field values are kept (least recently seen go)
COMPACT_CIS = {0x79, 0x7B, 0x73}
FULL_CIS = {0x78, 0x7A, 0x72}


_STAMP: list = [0, ""]  # the second last formatted, and its text


def _timestamp() -> str:
    """Now in UTC as ISO 8601, formatted once per second."""
    now = int(time.time())
    if now != _STAMP[0]:
        _STAMP[0], _STAMP[1] = now, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return _STAMP[1]


def is_wired_mbus_long_frame(raw: bytes) -> bool:
    """A wired M-Bus long frame: 68 L L 68 C A CI ... CS 16."""
    return (
        len(raw) >= 9
        and raw[0] == 0x68
        and raw[3] == 0x68
        and raw[1] == raw[2]
        and len(raw) == raw[1] + 6
        and raw[-1] == 0x16
    )


# Diehl (and its Hydrometer/Sappel brands) send the A-field of PRIOS frames and of their "real data"
# OMS frames (security mode >= 16) as version, type, ID instead of ID, version, type.
DIEHL_MANUFACTURERS = {"DME", "HYD", "SPL"}
PRIOS_CIS = {*range(0xA0, 0xA8), 0xB0, 0xB1, 0xB2, 0xB3}


def diehl_address_rotated(dll: LinkHeader, frame: bytes) -> bool:
    if dll.manufacturer not in DIEHL_MANUFACTURERS or len(frame) < 11:
        return False
    ci = frame[10]
    if ci in PRIOS_CIS:
        return True
    return ci == 0x7A and len(frame) >= 15 and frame[14] & 0x1F >= 16


def _identity_fields(identity: Identity) -> dict[str, object]:
    """The output's fields naming the meter."""
    fields: dict[str, object] = {"id": identity.id, "manufacturer": identity.manufacturer}
    name = MANUFACTURER_NAMES.get(identity.manufacturer)
    if name:
        fields["manufacturer_name"] = name
    fields["version"] = f"0x{identity.version:02x}"
    fields["device_type"] = f"0x{identity.device_type:02x}"
    fields["media"] = identity.media
    return fields


_CI_TEXT = tuple(f"0x{ci:02x}" for ci in range(256))
_LINK_LAYERS: dict[bytes, tuple[LinkHeader, Identity, dict[str, object]]] = {}
_MAX_LINK_LAYERS = 4096  # meter headers kept (then worked out again): a few MB at most


def _link_layer(frame: bytes) -> tuple[LinkHeader, Identity, dict[str, object]]:
    """The link header, who the telegram is from and the output fields naming it.

    A meter sends the same header every time, so they are worked out once per header: the L, C, M, A
    fields, and the CI and configuration byte that say whether a Diehl address is rotated.
    """
    key = bytes(frame[:11]) + bytes(frame[14:15])
    known = _LINK_LAYERS.get(key)
    if known is None:
        dll = parse_link_header(frame)
        if diehl_address_rotated(dll, frame):
            dll = rotate_diehl_address(dll)
        identity = Identity(dll.id, dll.manufacturer, dll.version, dll.device_type, dll.m_wire, dll.a_wire)
        if len(_LINK_LAYERS) >= _MAX_LINK_LAYERS:
            _LINK_LAYERS.clear()
        known = _LINK_LAYERS[key] = (dll, identity, _identity_fields(identity))
    return known


def rotate_diehl_address(dll: LinkHeader) -> LinkHeader:
    """Reorder a version/type/ID A-field into the usual ID/version/type."""
    a_wire = dll.a_wire[2:6] + dll.a_wire[0:2]
    return replace(dll, a_wire=a_wire, id=id_from_wire(a_wire[:4]), version=a_wire[4], device_type=a_wire[5])


class TelegramDecoder:
    """Decode telegrams into JSON-ready dicts; keeps compact-frame formats between telegrams."""

    def __init__(self, keys: KeyStore | None = None, driver: str | None = None) -> None:
        self.keys = keys or KeyStore()
        self.forced_driver = driver
        # Compact-frame formats by signature. The signature is a CRC over the DIF/VIF bytes and every
        # expansion is checked against the frame's full-frame CRC, so one table serves all meters.
        self.compact_formats: OrderedDict[int, bytes] = OrderedDict()
        # Full APLs not yet turned into formats, newest per meter: the record headers are extracted
        # only when a compact frame needs a format we do not know (most receivers never see one).
        self._unlearned: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        # Field values a driver keeps between a meter's telegrams (remember = true), by meter id.
        self._remembered: OrderedDict[str, dict[str, dict[str, object]]] = OrderedDict()
        for headers_hex in KNOWN_FORMATS:
            headers = bytes.fromhex(headers_hex)
            self.compact_formats[format_signature(headers)] = headers

    # ------------------------------------------------------------------ public API
    def decode(
        self, frame: Frame | bytes, already_decrypted: bool = False, link_crc: str | None = None
    ) -> dict:
        """Decode one telegram. Never raises: problems end up in ``result['error']``.

        ``link_crc`` is what the caller knows of the link-layer CRCs ('none', 'present', 'auto'); by
        default a frame from a receiver (mode known) is CRC-free by contract, anything else 'auto'.
        """
        return self.decode_telegram(frame, already_decrypted, link_crc)[0]

    def decode_telegram(
        self, frame: Frame | bytes, already_decrypted: bool = False, link_crc: str | None = None
    ) -> tuple[dict, Telegram | None]:
        """:meth:`decode`, also returning what each layer found (for ``analyze``); never raises."""
        if not isinstance(frame, Frame):
            frame = Frame(data=bytes(frame))
        if link_crc is None:
            link_crc = "none" if frame.mode else "auto"
        out: dict = {}
        telegram = None
        try:
            telegram = self._decode_into(out, frame, already_decrypted, link_crc)
        except Exception as exc:  # noqa: BLE001 - last resort: one telegram must never end the stream
            log.error("internal error decoding %s: %r", frame.data.hex(), exc, exc_info=True)
            for name in list(out):
                if name not in ("id", "manufacturer", "raw"):
                    del out[name]  # nothing half-decoded goes out as a reading
            out["error"] = f"internal error ({type(exc).__name__}): please report this telegram"
        meter_id = out.get("id")
        if meter_id:
            meter = self.keys.meter(meter_id)
            if meter and meter.name:
                out["name"] = meter.name
            if meter and meter.extra:
                out.update({k: v for k, v in meter.extra.items() if k not in out})
        out.update(frame.radio_fields())
        out["timestamp"] = _timestamp()
        return out, telegram

    def _decode_into(
        self, out: dict, frame: Frame, already_decrypted: bool, link_crc: str
    ) -> Telegram | None:
        telegram: Telegram | None = None
        try:
            telegram = self._decode_layers(frame.data, already_decrypted, out, link_crc)
        except DecodeError as exc:
            out["error"] = str(exc)
        if telegram is not None:
            meter = self.keys.meter(telegram.identity.id)
            driver_name = self.forced_driver or (meter.driver if meter else None)
            # (what keys.key_for gives, without looking the meter up again)
            telegram.key = meter.key if meter is not None and meter.key is not None else self.keys.default_key
            telegram.remembered = self._remembered_for(telegram.identity.id)
            try:
                out.update(apply_drivers(telegram, driver_name))
            except DecodeError as exc:
                out.setdefault("error", str(exc))
            if telegram.default_key and "error" not in out:
                out["default_key"] = telegram.default_key  # say which public key opened it
            if telegram.warnings:
                out["warnings"] = telegram.warnings
        return telegram

    def _remembered_for(self, meter_id: str) -> dict[str, dict[str, object]]:
        remembered = self._remembered.pop(meter_id, None)
        if remembered is None:
            remembered = {}
            while len(self._remembered) >= MAX_REMEMBERED_METERS:
                self._remembered.popitem(last=False)
        self._remembered[meter_id] = remembered
        return remembered

    # ------------------------------------------------------------------ layers
    def _decode_layers(self, data: bytes, already_decrypted: bool, out: dict, link_crc: str) -> Telegram:
        warnings: list[str] = []
        if is_wired_mbus_long_frame(data):
            return self._decode_wired(data, already_decrypted, out)
        frame, crcs, ignored = normalize_frame(data, link_crc)
        if ignored:
            warnings.append(f"ignored {ignored} bytes after the end of the frame")
        dll, identity, header = _link_layer(frame)
        out.update(header)
        out["raw"] = frame.hex()
        if crcs != "none":
            out["frame_format"] = crcs
        telegram = Telegram(frame=frame, identity=identity, dll=dll, warnings=warnings)
        self._decode_from(telegram, frame, 10, already_decrypted, out)
        return telegram

    def _decode_wired(self, data: bytes, already_decrypted: bool, out: dict) -> Telegram:
        body = data[4:-2]
        if sum(body) & 0xFF != data[-2]:
            raise DecodeError("checksum error in wired M-Bus long frame")
        ci = body[2]
        if ci not in TPL_CI or TPL_CI[ci][1] != "long":
            raise UnknownCIError(f"wired M-Bus frame with CI 0x{ci:02X}: expected a long-header CI (0x72)")
        out["raw"] = data.hex()
        # Identity comes from the long TPL header; the primary address is only the bus address.
        tpl_view = body[2:]
        tpl = parse_tpl(tpl_view, 0)
        identity = Identity.from_long_header(tpl)
        telegram = Telegram(frame=bytes(tpl_view), identity=identity)
        out["bus_address"] = body[1]
        self._decode_from(telegram, bytes(tpl_view), 0, already_decrypted, out)
        return telegram

    def _header_fields(self, out: dict, identity: Identity) -> None:
        out.pop("manufacturer_name", None)
        out.update(_identity_fields(identity))

    def _decode_from(
        self, telegram: Telegram, buf: bytes, pos: int, already_decrypted: bool, out: dict
    ) -> None:
        """Walk the CI chain from ``pos``; each layer consumes its header and may replace the rest."""
        cis: list[str] = []
        while True:
            if pos >= len(buf):
                if cis:
                    raise TruncatedError("truncated frame: it ends after the " + cis[-1] + " header")
                raise TruncatedError("truncated frame: no CI field after the link header")
            ci = buf[pos]
            cis.append(_CI_TEXT[ci])
            out["ci"] = cis[-1] if len(cis) == 1 else cis
            if ci in ELL_CI:
                ell = parse_ell(buf, pos)
                telegram.ell = ell
                out["ell_access_number"] = ell.access_number
                payload = bytes(buf[pos + ell.header_length :])
                if ell.has_payload_crc:
                    rest = self._ell_payload(telegram, ell, payload, already_decrypted)
                else:
                    rest = payload
                buf = bytes(buf[: pos + ell.header_length]) + rest
                pos += ell.header_length
                continue
            if ci == AFL_CI:
                telegram.afl = parse_afl(buf, pos)
                if telegram.afl.more_fragments or telegram.afl.fragment_id > 1:
                    raise DecodeError(
                        f"fragmented message (fragment {telegram.afl.fragment_id}): "
                        "reassembly is not supported"
                    )
                if telegram.afl.message_counter is not None:
                    out["message_counter"] = telegram.afl.message_counter
                pos += telegram.afl.length
                continue
            break
        telegram.ci = ci
        if ci in MANUFACTURER_CI:
            telegram.payload = bytes(buf[pos + 1 :])
            out["payload"] = telegram.payload.hex()
            return
        if ci not in TPL_CI:
            raise UnknownCIError(f"unknown CI field 0x{ci:02X}")
        tpl = parse_tpl(buf, pos)
        telegram.tpl = tpl
        if tpl.header == "long":
            telegram.identity = Identity.from_long_header(tpl)
            self._header_fields(out, telegram.identity)
        if tpl.access_number is not None:
            out["access_number"] = tpl.access_number
        if telegram.ell is not None and telegram.ell.encryption == ENC_AES_CTR:
            out["security_mode"] = "ell_aes_ctr"
        if tpl.config is not None:
            out["security_mode"] = tpl.security_mode
            out["configuration"] = f"0x{tpl.config:04x}"
        body = bytes(buf[pos + tpl.length :])
        if telegram.ell is None and is_real_data(telegram.identity.manufacturer, ci, tpl.security_mode):
            body = decode_real_data(bytes(buf[: pos + tpl.length]) + body)
            telegram.payload = body
            telegram.apl = parse_apl(body)
            return
        if tpl.security_mode not in (0, 5, 7) and not already_decrypted:
            telegram.payload = body
            telegram.undecoded = (
                f"security mode {tpl.security_mode} is not supported (meter {telegram.identity.id})"
            )
            return
        apl = self._decrypt_tpl(telegram, buf, pos, body, already_decrypted)
        if ci in COMPACT_CIS:
            apl = self._expand_compact(telegram, apl)
            telegram.decrypted_length = 0  # offsets now count in the rebuilt frame
        telegram.payload = apl
        if ci in FULL_CIS:
            self._learn_format(telegram, apl)
        telegram.apl_bytes = apl  # walked into records when a driver asks for them

    def _ell_payload(
        self, telegram: Telegram, ell: ExtendedLinkHeader, payload: bytes, already_decrypted: bool
    ) -> bytes:
        meter_id = telegram.identity.id
        if ell.encryption == ENC_NONE or already_decrypted:
            try:
                return check_payload_crc(payload, meter_id, decrypted=False)
            except DecryptionError:
                if ell.encryption == ENC_NONE:
                    raise
                telegram.warnings.append("ELL payload CRC does not match the already-decrypted payload")
                return payload[2:]
        if ell.encryption != ENC_AES_CTR:
            raise DecodeError(f"unsupported ELL encryption {ell.encryption} for meter {meter_id}")
        key = self.keys.key_for(meter_id)
        if key is None:
            raise NoKeyError(f"encrypted, no key for meter {meter_id}")
        assert telegram.dll is not None
        return decrypt_ell_payload(key, telegram.dll, ell, payload, meter_id)

    def _decrypt_tpl(
        self, telegram: Telegram, buf: bytes, pos: int, body: bytes, already_decrypted: bool
    ) -> bytes:
        tpl = telegram.tpl
        assert tpl is not None
        mode = tpl.security_mode
        meter_id = telegram.identity.id
        if mode == 0:
            return body
        enc_len = tpl.encrypted_blocks * 16 or (len(body) // 16) * 16
        if enc_len == 0:
            raise TruncatedError(
                f"truncated frame: security mode {mode} with {len(body)} bytes, less than one AES block"
            )
        if enc_len > len(body):
            raise TruncatedError(
                f"truncated frame: {tpl.encrypted_blocks} encrypted blocks announced, "
                f"{len(body)} bytes present"
            )
        if already_decrypted:
            plain = body[:enc_len]
        else:
            key = self.keys.key_for(meter_id)
            if key is None and mode == 5:
                return self._try_default_keys(telegram, body, enc_len)
            if key is None:
                raise NoKeyError(f"encrypted, no key for meter {meter_id}")
            if mode == 5:
                plain = aes_cbc_decrypt(key, self._mode5_iv(telegram), body[:enc_len])
                telegram.decrypted_without_mac = True
            else:
                plain = self._decrypt_mode7(telegram, key, buf, pos, body[:enc_len])
        telegram.decrypted_length = enc_len
        if plain[:2] != b"\x2f\x2f":
            if already_decrypted:
                raise DecodeError("payload said to be decrypted does not start with 2F2F")
            raise DecryptionError(f"decryption failed: check the key for meter {meter_id}")
        return plain + body[enc_len:]

    @staticmethod
    def _mode5_iv(telegram: Telegram) -> bytes:
        assert telegram.tpl is not None
        access = bytes([telegram.tpl.access_number or 0])
        return telegram.identity.m_wire + telegram.identity.a_wire + access * 8

    def _try_default_keys(self, telegram: Telegram, body: bytes, enc_len: int) -> bytes:
        """No key configured: try the publicly known default keys (all zero; Diehl's published one).
        Which one opened the payload is reported; the records must still parse (checked later)."""
        meter_id = telegram.identity.id
        for name, key, manufacturers in DEFAULT_KEYS:
            if manufacturers and telegram.identity.manufacturer not in manufacturers:
                continue
            plain = aes_cbc_decrypt(key, self._mode5_iv(telegram), body[:enc_len])
            if plain[:2] == b"\x2f\x2f":
                telegram.decrypted_without_mac = True
                telegram.default_key = name
                return plain + body[enc_len:]
        raise NoKeyError(f"encrypted, no key for meter {meter_id}")

    def _decrypt_mode7(self, telegram: Telegram, key: bytes, buf: bytes, pos: int, cipher: bytes) -> bytes:
        afl = telegram.afl
        tpl = telegram.tpl
        meter_id = telegram.identity.id
        assert tpl is not None
        if afl is None or afl.mcr_wire is None:
            raise DecodeError(f"security mode 7 without an AFL message counter (meter {meter_id})")
        if tpl.kdf not in (None, 1):
            raise DecodeError(f"security mode 7 key derivation {tpl.kdf} is not supported (meter {meter_id})")
        id_wire = telegram.identity.a_wire[:4]
        telegram.decrypted_without_mac = afl.mac is None
        if afl.mac is not None:
            k_mac = kdf_a(key, KDF_MAC_METER_TO_OTHER, afl.mcr_wire, id_wire)
            mac = aes_cmac(k_mac, afl.mac_input_prefix() + bytes(buf[pos:]))[: len(afl.mac)]
            if mac != afl.mac:
                raise DecryptionError(f"decryption failed: check the key for meter {meter_id} (MAC mismatch)")
        k_enc = kdf_a(key, KDF_ENC_METER_TO_OTHER, afl.mcr_wire, id_wire)
        return aes_cbc_decrypt(k_enc, b"\x00" * 16, cipher)

    # ------------------------------------------------------------------ compact frames
    def _learn_format(self, telegram: Telegram, apl: bytes) -> None:
        key = (telegram.identity.id, len(apl))  # a meter with two layouts keeps both
        self._unlearned.pop(key, None)
        self._unlearned[key] = bytes(apl)
        while len(self._unlearned) > MAX_UNLEARNED_FORMATS:
            self._unlearned.popitem(last=False)

    def _learn_pending_formats(self) -> None:
        """Turn the full frames seen since the last compact-frame miss into formats."""
        while self._unlearned:
            _, apl = self._unlearned.popitem(last=False)
            try:
                headers = record_headers(apl)
            except DecodeError:
                continue
            if headers:
                self.compact_formats[format_signature(headers)] = headers
                while len(self.compact_formats) > MAX_COMPACT_FORMATS:  # the oldest learnt goes first
                    self.compact_formats.popitem(last=False)

    def _expand_compact(self, telegram: Telegram, apl: bytes) -> bytes:
        start = 2 if apl[:2] == b"\x2f\x2f" else 0
        if len(apl) < start + 4:
            raise TruncatedError("truncated frame: compact frame header incomplete")
        signature = apl[start] | (apl[start + 1] << 8)
        full_crc = apl[start + 2] | (apl[start + 3] << 8)
        headers = self.compact_formats.get(signature)
        if headers is None and self._unlearned:
            self._learn_pending_formats()
            headers = self.compact_formats.get(signature)
        if headers is None:
            raise DecodeError(
                f"compact frame with unknown format 0x{signature:04X}: "
                f"waiting for a full frame from meter {telegram.identity.id}"
            )
        full = expand_compact(headers, apl[start + 4 :])
        if crc16_en13757(full) != full_crc:
            raise DecodeError(f"compact frame of meter {telegram.identity.id}: full-frame CRC mismatch")
        return full


__all__ = ["TelegramDecoder", "Telegram", "Identity", "manufacturer_code"]
