"""Attacks on the trust chain that tests/simulators/test_authority_cards.py does not already make.

Each is the real attack against the simulated cards through the same transports the station uses:
a byte-for-byte clone of a genuine, activated family card; a forged family card presented to the
FKO card at issuance; a forged FKO card presented to a station; a man in the middle replaying an
earlier session's protected answer; and a whole issuance day, with failures, whose logs and
exception texts are searched for every secret (hex, base64 and Python-repr forms).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import re
from datetime import date

import pytest

from cardlib import authority as ca
from cardlib import family_profile as fp
from cardlib.apdu import CommandApdu, ResponseApdu, StatusWord
from cardlib.errors import CardError, SecureMessagingError
from cardlib.family import FamilyCard, family_digest
from cardlib.model import Activation, CardSerial, Policy
from cardlib.secure import AuthenticationFailed, SoftwareSam
from keymgmt import hierarchy, issuance
from keymgmt.errors import KeyManagementError
from keymgmt.store import FileKeyStore
from simulators.cards.family import FILE_OFFSETS, SYS_KEY, FamilyCardOS
from tests.keymgmt.cards import (
    NOW,
    OFFICER_FINGER,
    PASSPHRASE,
    PIN,
    district_key,
    family,
    finger,
    inserted,
    issue,
    make_world,
    new_district_card,
    new_family_card,
    new_fko,
    new_hospital_card,
    unlocked_fko,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("attack-world"))


def activated_family_card(world) -> FamilyCardOS:
    fam = family("09230100101000071")
    card = new_family_card(district_key(world), fam)
    with inserted(new_fko(world)) as ft, inserted(card) as famt:
        fko = unlocked_fko(ft)
        issue(fko, famt, fam)
    return card


def unlocked(card_transport, client: type[ca.AuthorityCard]) -> ca.AuthorityCard:
    card = client(card_transport)
    card.select()
    if isinstance(card, ca.FkoCard):
        card.unlock(finger(OFFICER_FINGER, impression=2))
    else:
        card.verify_pin(PIN)
    return card


# --- cloning --------------------------------------------------------------------------------------------


def read_every_file(transport) -> dict[int, bytes]:
    """What a cloner with a reader gets: every EF in full, through plain READ BINARY / READ RECORD."""
    def send(apdu: CommandApdu, accept=(StatusWord.SUCCESS,)) -> ResponseApdu:
        response = transport.transmit(apdu)
        assert response.sw in (*accept, StatusWord.SUCCESS), f"{apdu.ins:02X} -> {response.sw:04X}"
        return response

    send(CommandApdu(0x00, fp.INS_SELECT, 0x04, 0x0C, fp.AID))
    files: dict[int, bytes] = {}
    for spec in fp.DATA_FILES:
        send(CommandApdu(0x00, fp.INS_SELECT, 0x02, 0x0C, spec.fid.to_bytes(2, "big")))
        if spec.cyclic:
            records, n = [], 1
            while (r := transport.transmit(CommandApdu(0x00, fp.INS_READ_RECORD, n, 0x04, ne=256))).sw == 0x9000:
                records.append(r.data)
                n += 1
            files[spec.fid] = b"".join(records)
            continue
        data = b""
        while len(data) < spec.size:
            data += send(CommandApdu(0x00, fp.INS_READ_BINARY, len(data) >> 8, len(data) & 0xFF,
                                     ne=min(256, spec.size - len(data))),
                         accept=(StatusWord.WARNING_END_OF_FILE,)).data
        files[spec.fid] = data
    return files


def byte_copy(original: FamilyCardOS, files: dict[int, bytes]) -> FamilyCardOS:
    """A blank card given the original's files byte for byte, and its system area (serial, life cycle,
    log pointers) — everything except the card key, which no command reveals: the cloner's guess."""
    clone = FamilyCardOS(None)
    clone.eeprom.write(0, original.image()[:SYS_KEY])
    clone.eeprom.write(SYS_KEY, os.urandom(16))
    for spec in fp.DATA_FILES:
        if spec.cyclic:
            # READ RECORD n is the n-th newest: put record n back in the slot it came from.
            nxt = original.image()[7]
            for n in range(len(files[spec.fid]) // fp.LOG_RECORD_SIZE):
                slot = (nxt - (n + 1)) % fp.LOG_RECORDS
                record = files[spec.fid][n * fp.LOG_RECORD_SIZE : (n + 1) * fp.LOG_RECORD_SIZE]
                clone.eeprom.write(FILE_OFFSETS[spec.fid] + slot * fp.LOG_RECORD_SIZE, record)
        else:
            clone.eeprom.write(FILE_OFFSETS[spec.fid], files[spec.fid])
    return clone


def test_byte_copy_of_an_activated_card_is_rejected_by_every_authority_card(world) -> None:
    original = activated_family_card(world)
    with inserted(original) as t:
        files = read_every_file(t)
        genuine = FamilyCard(t)
        data, activation, record = genuine.read(), genuine.read_activation(), genuine.read_issuance()
    clone = byte_copy(original, files)
    with inserted(clone) as t:
        copy = FamilyCard(t)
        # The copy is perfect as far as any reader can tell: same serial, files, FKO activation and signature.
        assert read_every_file(t) == files
        assert (copy.read(), copy.read_activation(), copy.read_issuance()) == (data, activation, record)
    authority = {ca.HospitalCard: new_hospital_card(world), ca.DistrictCard: new_district_card(world),
                 ca.FkoCard: new_fko(world)}
    for client, card in authority.items():
        with inserted(card) as at, inserted(clone) as ct, inserted(original) as ot:
            sam = unlocked(at, client)
            with pytest.raises(AuthenticationFailed):
                FamilyCard(ct).authenticate(sam)
            FamilyCard(ot).authenticate(sam)  # the genuine card still passes with the same authority card


# --- forgery ----------------------------------------------------------------------------------------------


def test_forged_family_card_cannot_be_authorised_or_activated(world, tmp_path) -> None:
    """A card keyed by another scheme (or a guessed key) gets no issuance and no activation from the FKO."""
    rogue = make_world(tmp_path)
    fam = family("09230100101000072")
    forged = new_family_card(lambda s: hierarchy.family_card_key(rogue.district, s), fam)
    with inserted(new_fko(world)) as ft, inserted(forged) as famt:
        fko = unlocked(ft, ca.FkoCard)
        before = fko.info()
        fc = FamilyCard(famt)
        with pytest.raises(AuthenticationFailed):
            fc.authenticate(fko)
        with pytest.raises(CardError):  # no authenticated card in this session: nothing to count
            fko.authorise_issuance(fc.serial().value, fam.urn.value, family_digest(fam), "CAMP-01", NOW)
        # A made-up activation cryptogram is refused by the card itself.
        with pytest.raises(CardError):
            fc.activate(Activation(CardSerial(before.serial), before.next_number, NOW, os.urandom(8)))
        after = fko.info()
        assert (after.counter, after.ledger_count) == (before.counter, before.ledger_count)
        assert fc.read_activation() is None


def test_forged_fko_card_is_refused_by_the_station(world, tmp_path) -> None:
    """An FKO card made by a rogue 'district' (its own scheme root) does not chain to the real root."""
    rogue = make_world(tmp_path)
    with inserted(new_fko(rogue)) as ft:
        fko = ca.FkoCard(ft)
        fko.select()
        with pytest.raises(ca.AuthorityCardError, match=r"not validly signed|not valid"):
            fko.verified_certificate(world.root, NOW)
        # And its ledger summary, signed with the rogue card's key, fails the district's check.
        challenge = os.urandom(16)
        summary = fko.ledger_summary(challenge)
    with inserted(new_fko(world)) as gt:
        genuine = ca.FkoCard(gt)
        genuine.select()
        cert = genuine.verified_certificate(world.root, NOW)
    with pytest.raises(KeyManagementError):
        issuance.verify_ledger((), summary, cert, challenge)


# --- replay ------------------------------------------------------------------------------------------------


class ReplayingMiddleman:
    """Sits between the station and a family card; can answer a protected UPDATE BINARY with an old answer."""

    def __init__(self, inner: FamilyCardOS) -> None:
        self.inner = inner
        self.recorded: bytes | None = None
        self.replay = False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def execute(self, apdu: CommandApdu) -> ResponseApdu:
        return ResponseApdu.from_bytes(self.process(apdu.to_bytes()))

    def process(self, raw: bytes) -> bytes:
        is_protected_update = raw[0] & 0x0C == 0x0C and raw[1] == fp.INS_UPDATE_BINARY
        if is_protected_update and self.replay and self.recorded is not None:
            return self.recorded  # the write never reaches the card
        out = self.inner.process(raw)
        if is_protected_update:
            self.recorded = out
        return out


def policy(balance: int) -> Policy:
    return Policy("Test Insurer", "POL-0001", date(2026, 4, 1), date(2027, 3, 31), 3_000_000, balance)


def test_replayed_protected_response_is_rejected_and_the_write_is_not_believed(world) -> None:
    card = new_family_card(district_key(world))
    middle = ReplayingMiddleman(card)
    with inserted(new_hospital_card(world)) as ht, inserted(middle) as famt:
        hosp = unlocked(ht, ca.HospitalCard)
        fc = FamilyCard(famt)
        fc.authenticate(hosp)
        fc.update_policy(0, policy(3_000_000))  # genuine write; its protected answer is recorded
        assert middle.recorded is not None
        fc.authenticate(hosp)  # a new session: new keys, counter back to 1
        middle.replay = True
        with pytest.raises(SecureMessagingError):
            fc.update_policy(0, policy(1_000_000))  # the debit the middleman wants the station to think done
        assert not fc.authenticated  # the station treats the session as broken
    with inserted(card) as t:
        assert FamilyCard(t).read_policies()[0] == policy(3_000_000)


# --- secrets in logs and exception text -------------------------------------------------------------------

_HEX = re.compile(r"[0-9A-Fa-f]{16,}")
_B64 = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")


def _blobs(text: str) -> list[bytes]:
    """Every byte string a log line could carry in hex or base64 (each alignment)."""
    out = []
    for m in _HEX.finditer(text):
        s = m.group()
        out += [bytes.fromhex(s[i : i + (len(s) - i) // 2 * 2]) for i in (0, 1)]
    for m in _B64.finditer(text):
        s = m.group().rstrip("=")
        for i in range(4):
            chunk = s[i:]
            chunk = chunk[: len(chunk) // 4 * 4]
            with contextlib.suppress(binascii.Error, ValueError):
                out.append(base64.b64decode(chunk, altchars=b"-_" if "-" in chunk or "_" in chunk else None))
    return out


def leaks(text: str, secret: bytes, window: int = 8) -> bool:
    blobs = _blobs(text)
    for i in range(0, max(1, len(secret) - window + 1)):
        part = secret[i : i + window]
        if any(part in blob for blob in blobs) or repr(part)[2:-1] in text:
            return True
    return False


def test_no_secret_reaches_logs_or_exception_text_through_a_whole_day(world, caplog, tmp_path) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    def expect_failure(action) -> None:
        with pytest.raises((CardError, KeyManagementError)) as info:
            action()
        texts.append(f"{info.value}\n{info.value!r}")

    officer, stranger = finger(OFFICER_FINGER, impression=1), finger(4242, impression=1)
    fko_card, desk_card, hosp_card = new_fko(world, issuances=3), new_district_card(world), new_hospital_card(world)
    fam = family("09230100101000073")
    fam_card = new_family_card(district_key(world), fam)
    rogue_card = new_family_card(lambda serial: os.urandom(16))  # a guessed key
    with (inserted(fko_card) as ft, inserted(desk_card) as dt, inserted(hosp_card) as ht,
          inserted(fam_card) as famt, inserted(rogue_card) as rt):
        fko, desk, hosp = ca.FkoCard(ft), ca.DistrictCard(dt), ca.HospitalCard(ht)
        for card in (fko, desk, hosp):
            card.select()
        expect_failure(lambda: fko.unlock(stranger))
        expect_failure(lambda: desk.verify_pin("975310"))
        expect_failure(lambda: fko.derive_card_key(FamilyCard(famt).serial().value))
        fko.unlock(officer)
        expect_failure(lambda: FamilyCard(rt).authenticate(fko))
        expect_failure(lambda: FamilyCard(famt).authenticate(SoftwareSam(os.urandom(16))))
        auth = issue(fko, famt, fam)
        hosp.verify_pin(PIN)
        fc = FamilyCard(famt)
        fc.authenticate(hosp)
        fc.update_policy(0, policy(2_000_000))
        desk.verify_pin(PIN)
        ca.recharge_fko(fko, desk, world.root, tmp_path / "archive")
        expect_failure(lambda: FileKeyStore.open(world.district.path, "wrong " + PASSPHRASE))
        serial, fko_serial = fc.serial().value, fko.info().serial
    secrets = {
        "district family master": hierarchy.district_family_master(world.district),
        "district admin master": hierarchy.district_admin_master(world.district),
        "scheme family master": hierarchy.scheme_family_master(world.central),
        "family card key": hierarchy.family_card_key(world.district, serial),
        "FKO admin key": hierarchy.authority_admin_key(world.district, fko_serial),
        "activation cryptogram": auth.activation_cryptogram,
        "enrolled template": finger(OFFICER_FINGER),
        "probe template": officer,
        "stranger's template": stranger,
        # Test-only look inside the file stores: the root keys and signing scalars themselves.
        **{f"{store.path.name} {label}": entry.value
           for store in (world.central, world.district) for label, entry in store._entries.items()
           if entry.kind in ("aes", "ec")},
        "FKO card private key": fko_card.eeprom.read(16, 32),
    }
    everything = "\n".join(texts) + "\n" + caplog.text
    assert caplog.records, "the simulators log refusals at DEBUG: the capture must have seen them"
    assert len(texts) == 6
    for name, secret in secrets.items():
        assert not leaks(everything, secret), f"{name} appears in a log line or an exception text"
    for text in (PIN, "975310", PASSPHRASE):
        assert text not in everything


def test_the_leak_detector_finds_each_form() -> None:
    """The check above can fail: a secret in hex, base64 (any offset) or repr form is found."""
    secret = os.urandom(24)
    for text in (f"key={secret.hex()}", f"k {secret[3:15].hex().upper()} x", base64.b64encode(b"ab" + secret).decode(),
                 base64.urlsafe_b64encode(secret[5:]).decode(), repr(secret[:10]), f"oops {secret!r}"):
        assert leaks(text, secret), text
    assert not leaks(f"serial {os.urandom(8).hex()} personalisation 0923 RSBY/doc/v1", secret)


# --- tearing the recharge ------------------------------------------------------------------------------------


def test_recharge_torn_at_every_byte_leaves_the_old_or_the_new_state(world, tmp_path) -> None:
    """Pulling the FKO card during RECHARGE never mixes states (e.g. a reset counter with the old ledger)."""
    from cardlib.errors import CardRemovedError
    from tests.keymgmt.cards import reinsert

    fko_card, desk_card = new_fko(world, issuances=2), new_district_card(world)
    fam = family("09230100101000074")
    with inserted(fko_card) as ft, inserted(desk_card) as dt:
        fko = unlocked(ft, ca.FkoCard)
        with inserted(new_family_card(district_key(world), fam)) as famt:
            issue(fko, famt, fam)
        old = fko.info()
        desk = unlocked(dt, ca.DistrictCard)
        torn = 0
        attempts = 0
        for k in range(0, 200):
            attempts += 1
            fko_card.faults.tear_after_bytes = k
            try:
                ca.recharge_fko(fko, desk, world.root, tmp_path / "archive", issuances=50)
            except CardRemovedError:
                torn += 1
                reinsert(ft, fko_card)
                info = ca.FkoCard(ft).select()
                state = (info.counter, info.ledger_count, info.next_number)
                assert state in ((old.counter, old.ledger_count, old.next_number), (50, 0, old.next_number)), k
                if state[0] == 50:
                    break
                continue
            finally:
                fko_card.faults.tear_after_bytes = None
            break
        assert torn > 10  # the sweep reached the journal write byte by byte
        info = ca.FkoCard(ft).select()
        assert (info.counter, info.ledger_count) == (50, 0)
    # Each attempt archived the ledger before its (torn or whole) recharge; none replaced another.
    archives = sorted((tmp_path / "archive").iterdir())
    assert len(archives) == attempts
    assert all([e.urn for e in ca.verify_archive(p, world.root)[1]] == [fam.urn.value] for p in archives)


# --- a colluding officer taking a genuine card's key ---------------------------------------------------------


def test_a_key_taken_for_a_copy_is_recorded_signed_and_stops_the_recharge(world, tmp_path) -> None:
    """The officer unlocks the FKO card and asks for the key of a genuine card's serial (serials are
    public) to make a copy. The card records the serial before answering, the signed ledger summary
    lists it, the district's recharge refuses until it is accounted for, and after OPEN_KEYS_MAX such
    keys the card gives no more."""
    from cardlib.errors import CardError as AnyCardError

    genuine = activated_family_card(world)
    with inserted(genuine) as gt:
        genuine_serial = FamilyCard(gt).serial().value
    fko_card, desk_card = new_fko(world), new_district_card(world)
    with inserted(fko_card) as ft, inserted(desk_card) as dt:
        fko = unlocked_fko(ft)
        # A normal issuance: its key is handed out for personalisation and closed when it is counted.
        fam = family("09230100101000075")
        card = FamilyCardOS(None)
        with inserted(card) as famt:
            client = FamilyCard(famt)
            client.personalise(fam, fko.derive_card_key(client.serial().value))
            assert fko.ledger_summary(os.urandom(16)).open_keys == (client.serial().value,)
            issue(fko, famt, fam)
            issued_serial = client.serial().value
        assert fko.ledger_summary(os.urandom(16)).open_keys == ()
        assert fko.derive_card_key(issued_serial)  # resuming a counted issuance opens nothing
        assert fko.ledger_summary(os.urandom(16)).open_keys == ()

        # The attack: the genuine card's key, the same one the genuine card holds.
        stolen = fko.derive_card_key(genuine_serial)
        assert stolen == hierarchy.family_card_key(world.district, genuine_serial)
        challenge = os.urandom(16)
        summary = fko.ledger_summary(challenge)
        assert summary.open_keys == (genuine_serial,)
        issuance.verify_ledger(fko.read_ledger(), summary, fko.verified_certificate(world.root), challenge)
        # Editing the list out of the summary breaks the card's signature.
        edited = issuance.LedgerSummary.decode(summary.encode().replace(genuine_serial, os.urandom(8)))
        with pytest.raises(KeyManagementError):
            issuance.verify_ledger(fko.read_ledger(), edited, fko.verified_certificate(world.root), challenge)

        # Bounded: after OPEN_KEYS_MAX keys of uncounted cards, no more.
        for _ in range(issuance.OPEN_KEYS_MAX - 1):
            fko.derive_card_key(os.urandom(8))
        with pytest.raises(AnyCardError, match="never issued"):
            fko.derive_card_key(os.urandom(8))

        desk = unlocked(dt, ca.DistrictCard)
        counter = fko.info().counter
        with pytest.raises(ca.LedgerRejected, match=genuine_serial.hex().upper()):
            ca.recharge_fko(fko, desk, world.root, tmp_path / "archive", issuances=300)
        assert fko.info().counter == counter  # nothing reset
        # Declaring the spoilt blanks (all but the genuine serial) is not enough either.
        spoilt = [k for k in fko.ledger_summary(os.urandom(16)).open_keys if k != genuine_serial]
        with pytest.raises(ca.LedgerRejected, match="copy"):
            ca.recharge_fko(fko, desk, world.root, tmp_path / "archive", issuances=300, spoilt=spoilt)
        # Once accounted for (here: the district has revoked the genuine card), the recharge clears them.
        record = ca.recharge_fko(fko, desk, world.root, tmp_path / "archive", issuances=300,
                                 spoilt=[*spoilt, genuine_serial])
        assert len(record.summary.open_keys) == issuance.OPEN_KEYS_MAX
        assert fko.ledger_summary(os.urandom(16)).open_keys == ()
        fko.unlock(finger(OFFICER_FINGER, impression=2))
        assert fko.derive_card_key(os.urandom(8))


def test_a_torn_key_derivation_never_hands_out_an_unrecorded_key(world) -> None:
    from cardlib.errors import CardRemovedError
    from tests.keymgmt.cards import reinsert

    fko_card = new_fko(world)
    serial = os.urandom(8)
    with inserted(fko_card) as ft:
        fko = unlocked_fko(ft)
        for k in range(0, 120):
            fko_card.faults.tear_after_bytes = k
            try:
                key = fko.derive_card_key(serial)
            except CardRemovedError:
                reinsert(ft, fko_card)
                fko = unlocked_fko(ft)
                assert fko.ledger_summary(os.urandom(16)).open_keys in ((), (serial,)), k
                continue
            finally:
                fko_card.faults.tear_after_bytes = None
            break
        else:
            pytest.fail("the derivation never completed")
        assert k > 0 and key  # some tears hit the journal before the answer went out
        assert fko.ledger_summary(os.urandom(16)).open_keys == (serial,)
