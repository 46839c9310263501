from datetime import UTC, datetime

from dedupe.lead_match import MatchedBy, SystemIndex, already_in_system
from domain.records import Account, Contact, Lead

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def account(id: str, name: str, website: str | None = None, owner: str = "005A", day: int = 1) -> Account:
    return Account(id, name, owner, datetime(2025, 1, day, tzinfo=UTC), T0, website=website)


def lead(name: str, company: str | None = None, email: str | None = None, phone: str | None = None) -> Lead:
    return Lead("00Q1", name, company, "005L", "Open", T0, T0, email=email, phone=phone)


ACCOUNTS = [account("001A", "Acme Products, Inc.", "https://www.acme.com", "005A"),
            account("001B", "Globex", "globex.io", "005B")]
CONTACTS = [Contact("003J", "Robert Smith", "001B", "005C", T0, T0, email="rsmith@globex.io", phone="312 555 0100")]


def test_a_lead_that_is_an_existing_contact_names_the_contact_and_its_account_owner() -> None:
    """Bob Smith writing from the contact's address is that contact; he belongs to Globex's owner."""
    found = SystemIndex(CONTACTS, ACCOUNTS).match(lead("Bob Smith", "Globex Corp", "RSmith@globex.io"))
    assert found is not None
    assert (found.matched_by, found.record_id, found.account_id, found.account_owner_id) == (
        MatchedBy.CONTACT, "003J", "001B", "005B")
    assert "Robert Smith" in found.reason and "email rsmith@globex.io" in found.reason


def test_a_lead_at_an_existing_company_is_routed_to_the_account_owner() -> None:
    """A new person at "ACME PRODUCTS INC" belongs to the account Acme Products, Inc."""
    found = SystemIndex(CONTACTS, ACCOUNTS).match(lead("Jane Doe", "ACME PRODUCTS INC"))
    assert found is not None
    assert (found.matched_by, found.account_id, found.account_owner_id) == (MatchedBy.COMPANY, "001A", "005A")


def test_the_email_domain_finds_the_account_when_the_company_is_missing_but_never_a_public_one() -> None:
    """jane@acme.com works at the account whose website is acme.com; gmail.com belongs to nobody."""
    index = SystemIndex(CONTACTS, [*ACCOUNTS, account("001G", "Gmail fans", "gmail.com")])
    found = index.match(lead("Jane Doe", email="jane@acme.com"))
    assert found is not None and (found.matched_by, found.account_id) == (MatchedBy.EMAIL_DOMAIN, "001A")
    assert index.match(lead("Jane Doe", email="jane@gmail.com")) is None


def test_a_same_name_alone_is_not_an_existing_contact() -> None:
    """A Robert Smith with nothing else in common is a new lead."""
    assert SystemIndex(CONTACTS, ACCOUNTS).match(lead("Robert Smith", email="bob@elsewhere.org")) is None


def test_of_duplicate_accounts_the_oldest_wins_and_deleted_records_never_match() -> None:
    """Two unmerged "Initech" accounts: the older one is named; a deleted account is not the system."""
    older, newer = account("001N", "Initech", day=1, owner="005O"), account("001M", "Initech LLC", day=9)
    gone = Account("001D", "Gone Ltd", "005A", T0, T0, deleted=True)
    found = already_in_system([lead("Pat Lee", "initech"), lead("Sam Roe", "Gone")], [], [newer, older, gone])
    assert list(found) == ["00Q1"]
    assert found["00Q1"].account_id == "001N" and "oldest of 2" in found["00Q1"].reason
