"""The whole stack on the verified vectors of the protocol fact sheet (spec section 8)."""

import pytest

from sdr_wmbus.decoder import TelegramDecoder
from sdr_wmbus.security.keys import KeyStore, MeterConfig

KEY_00_0F = bytes(range(16))


def decoder_with(keys: dict[str, bytes] | None = None, default: bytes | None = None) -> TelegramDecoder:
    store = KeyStore(default_key=default)
    for meter_id, key in (keys or {}).items():
        store.meters[meter_id] = MeterConfig(id=meter_id, key=key)
    return TelegramDecoder(store)


def record(result: dict, quantity: str, storage: int = 0) -> dict:
    matches = [r for r in result["records"] if r["quantity"] == quantity and r.get("storage", 0) == storage]
    assert matches, f"no {quantity} record with storage {storage} in {result['records']}"
    return matches[0]


V2_WITH_CRCS = (
    "29449344443322115508 6CB1 72887766559344550800041005 00DFE2 27F9 A782146D1513581CD2F83F3904015B19 6109"
)


def test_v2_mode5_long_header_frame_a():
    result = decoder_with({"55667788": KEY_00_0F}).decode(bytes.fromhex(V2_WITH_CRCS.replace(" ", "")))
    assert "error" not in result, result
    assert result["frame_format"] == "A"
    # The long TPL header names the meter; the DLL address belongs to the radio part.
    assert (result["id"], result["manufacturer"], result["version"], result["device_type"]) == (
        "55667788",
        "QDS",
        "0x55",
        "0x08",
    )
    assert result["security_mode"] == 5
    assert result["access_number"] == 0
    assert result["status"] == "POWER_LOW"
    assert record(result, "hca")["value"] == 1234
    assert record(result, "date", 1)["value"] == "2007-04-30"
    assert record(result, "hca", 1)["value"] == 23456
    assert record(result, "flow_temperature")["value"] == 25
    assert result["current_consumption_hca"] == 1234
    assert result["consumption_at_set_date_hca"] == 23456
    assert result["flow_temperature_c"] == 25


def test_v2_wrong_key_is_reported_not_decoded():
    wrong = bytes(16)
    result = decoder_with({"55667788": wrong}).decode(bytes.fromhex(V2_WITH_CRCS.replace(" ", "")))
    assert result["error"] == "decryption failed: check the key for meter 55667788"
    assert "records" not in result and "current_consumption_hca" not in result
    assert result["id"] == "55667788"


def test_v2_without_key():
    result = decoder_with().decode(bytes.fromhex(V2_WITH_CRCS.replace(" ", "")))
    assert result["error"] == "encrypted, no key for meter 55667788"
    assert result["manufacturer"] == "QDS" and result["security_mode"] == 5


V3 = "304493444433221155378C00757288776655934455080004100500DFE2A782146D1513581CD2F83F39040CFD1078563412"


def test_v3_ell_i_with_long_header():
    result = decoder_with(default=KEY_00_0F).decode(bytes.fromhex(V3))
    assert "error" not in result, result
    assert result["ci"] == ["0x8c", "0x72"]
    assert result["ell_access_number"] == 0x75
    assert result["id"] == "55667788"
    assert record(result, "hca")["value"] == 1234
    assert record(result, "customer_location")["value"] in ("12345678", 12345678)


V4 = "2E4493157856341233037A2A0020255923C95AAA26D1B2E7493B013EC4A6F6D3529B520EDFF0EA6DEFC99D6D69EBF3"


def test_v4_mode5_short_header_gas():
    result = decoder_with(default=bytes.fromhex("0102030405060708090A0B0C0D0E0F11")).decode(bytes.fromhex(V4))
    assert "error" not in result, result
    assert (result["manufacturer"], result["id"], result["media"]) == ("ELS", "12345678", "gas")
    assert result["total_m3"] == 28504.27
    assert result["meter_datetime"] == "2008-05-31 23:50"
    assert result["error_flags"] == 0


V5 = (
    "5308244844332211033 78E80753A63665544330A31900F002C25B30A0000AF5D74DF73A600D9"
    "72785634129315330375002007109058475F4BC91DF878B80A1B0F98B629024AAC727942BFC549233C0140829B93"
)


def test_v5_mode7_afl_ell_iii_long_header():
    result = decoder_with(default=KEY_00_0F).decode(bytes.fromhex(V5.replace(" ", "")))
    assert "error" not in result, result
    assert result["ci"] == ["0x8e", "0x90", "0x72"]
    assert result["message_counter"] == 0x0AB3
    assert result["security_mode"] == 7
    assert result["id"] == "12345678"
    assert result["total_m3"] == 28504.27
    assert result["meter_datetime"] == "2008-05-31 23:50"


def test_v5_mode7_wrong_key_fails_the_mac():
    result = decoder_with(default=bytes(16)).decode(bytes.fromhex(V5.replace(" ", "")))
    assert result["error"].startswith("decryption failed: check the key for meter 12345678")
    assert "total_m3" not in result


V6 = "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24"
V6_KEY = bytes.fromhex("28F64A24988064A079AA2C807D6102AE")
V7 = "23442D2C998734761B168D2087D19EAD217F1779EDA86AB6710008190000081900007F13"


def test_v6_kamstrup_ell_aes_ctr():
    result = decoder_with({"76348799": V6_KEY}).decode(bytes.fromhex(V6))
    assert "error" not in result, result
    assert (result["manufacturer"], result["id"]) == ("KAM", "76348799")
    assert result["ci"] == ["0x8d", "0x78"]
    assert result["security_mode"] == "ell_aes_ctr"
    assert result["total_m3"] == 6.408
    assert result["target_m3"] == 6.408
    flow = record(result, "flow_temperature", 1)
    assert (flow["value"], flow["function"]) == (127, "minimum")
    assert 19 in [r["value"] for r in result["records"] if r["quantity"] == "external_temperature"]


def test_v6_wrong_key():
    result = decoder_with({"76348799": bytes(16)}).decode(bytes.fromhex(V6))
    assert result["error"] == "decryption failed: check the key for meter 76348799"
    assert "total_m3" not in result


def test_v7_compact_frame_needs_the_full_frame_first():
    decoder = decoder_with({"76348799": V6_KEY})
    decoder.compact_formats.clear()  # forget the seeded formats: learn from the meter itself
    early = decoder.decode(bytes.fromhex(V7), already_decrypted=True)
    assert "unknown format 0xA8ED" in early["error"]
    assert "total_m3" not in early
    decoder.decode(bytes.fromhex(V6))
    result = decoder.decode(bytes.fromhex(V7), already_decrypted=True)
    assert "error" not in result, result
    assert result["total_m3"] == 6.408
    assert record(result, "flow_temperature", 1)["value"] == 127


def test_v7_compact_frame_with_seeded_format():
    result = decoder_with().decode(bytes.fromhex(V7), already_decrypted=True)
    assert "error" not in result, result
    assert result["total_m3"] == 6.408


def test_v7_compact_frame_with_corrupted_value_fails_full_crc():
    corrupted = bytearray(bytes.fromhex(V7))
    corrupted[-3] ^= 0x01  # inside a value: the ELL payload CRC would catch it, so fix that CRC up
    from sdr_wmbus.crc import crc16_en13757

    crc = crc16_en13757(bytes(corrupted[19:]))
    corrupted[17:19] = crc.to_bytes(2, "little")
    result = decoder_with().decode(bytes(corrupted), already_decrypted=True)
    assert "full-frame CRC mismatch" in result["error"]
    assert "total_m3" not in result


V8 = (
    "4E442D2C98270467300491537AA61040256D3CA0F72FF1EF06806C50A10421CBD132E3B1D0116A0557696E0E37C2E9F0"
    "8636FE31F68E6B4DEE5E385316C216A96E277D48B1459272386146F78C7766D519FC4449993ADA5AAD95A5"
)


def test_v8_c1_frame_a_encrypted_without_key():
    result = decoder_with().decode(bytes.fromhex(V8))
    assert result["frame_format"] == "A"
    assert (result["manufacturer"], result["id"], result["version"], result["device_type"]) == (
        "KAM",
        "67042798",
        "0x30",
        "0x04",
    )
    assert result["error"] == "encrypted, no key for meter 67042798"
    assert len(bytes.fromhex(result["raw"])) == 0x4E + 1


def test_v9_frame_b_manufacturer_ci():
    result = decoder_with().decode(bytes.fromhex("13442D2C785634120132A000010203040506C3C0"))
    assert "error" not in result, result
    assert result["frame_format"] == "B"
    assert result["ci"] == "0xa0"
    assert result["payload"] == "00010203040506"


V11 = (
    "C244C5140443054300048C200E900F002C25895E02003B0877D31DA840B17A0E009007100F8FAD4C4E61400DA4F3B1F7E2"
    "73CC4C5C07F93CD20B237345DB39F9A98F8415E1C4B7A25C86E4C22D05C3352FA7E2E5627031F14643063F1DC8FE2C3245"
    "9B6F02E4234B447B18E4BFDA8C4DA9B1EDE6CF29D0B2122A3E8B9DEEBEE3E6DBE6617B4E709EC6B595179CB01C2C0BDE67"
    "23A345B708652880C114A58DA07C73AD9EB8ACB17FA0A88F19BC84CB1FC56672DE8A9603FD0C05010002FD0B2111F60B"
)


def test_v11_sensostar_frame_b_mode7():
    result = decoder_with({"43054304": bytes.fromhex("622B9656991FF0C1574C0950CF9278D1")}).decode(
        bytes.fromhex(V11)
    )
    assert "error" not in result, result
    assert result["frame_format"] == "B"
    assert result["message_counter"] == 0x00025E89
    assert result["meter"] == "sensostar"
    assert result["total_kwh"] == 9341
    assert result["total_water_m3"] == 1348.631


V12 = (
    "6e4401068888888805077a85006085bc2630713819512eb4cd87fba554fb43f67cf9654a68ee8e194088160df752e716"
    "238292e8af1ac20986202ee561d743602466915e42f1105d9c6782a54504e4f099e65a7656b930c73a30775122d2fdf0"
    "74b5035cfaa7e0050bf32faae03a77"
)


def test_v12_mode5_zero_key_decrypts():
    result = decoder_with(default=bytes(16)).decode(bytes.fromhex(V12))
    assert result["manufacturer"] == "APA"
    assert result["security_mode"] == 5
    assert not result.get("error", "").startswith("decryption failed")


V13 = "314493441234567835087A740000200B6E2701004B6E450100426C5F2CCB086E790000C2086C7F21326CFFFF046D200B7422"


@pytest.mark.parametrize("already", [False, True])
def test_v13_plain_qcaloric(already):
    result = decoder_with().decode(bytes.fromhex(V13), already_decrypted=already)
    assert "error" not in result, result
    assert result["security_mode"] == 0
    assert result["current_consumption_hca"] == 127
    assert result["consumption_at_set_date_hca"] == 145
    assert result["set_date"] == "2018-12-31"  # qcaloric's names
    assert record(result, "hca", 17)["value"] == 79
    assert record(result, "date", 17)["value"] == "2019-01-31"
    assert result["device_datetime"] == "2019-02-20 11:32"


def test_unknown_ci_is_an_error():
    frame = bytes.fromhex("0e44934412345678350881000102")
    frame = bytes([len(frame) - 1]) + frame[1:]
    result = decoder_with().decode(frame)
    assert result["error"] == "unknown CI field 0x81"
    assert result["id"] == "78563412"


def test_wired_mbus_long_frame():
    # 68 L L 68 | C=08 A=01 CI=72 | long header + one record (volume 12.345 m3) | CS 16
    body = bytes.fromhex("080172785634129315230701000000041339300000")
    frame = bytes([0x68, len(body), len(body), 0x68]) + body + bytes([sum(body) & 0xFF, 0x16])
    result = decoder_with().decode(frame)
    assert "error" not in result, result
    assert (result["id"], result["manufacturer"], result["media"]) == ("12345678", "ELS", "water")
    assert result["total_m3"] == 12.345
