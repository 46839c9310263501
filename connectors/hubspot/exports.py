"""The columns of a HubSpot company export, by the field they hold.

For each field, the first column present in a file is used.
"""

ACCOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("Record ID", "Company ID"),
    "name": ("Company name", "Name"),
    "website": ("Company Domain Name", "Website URL", "Domain"),
    "phone": ("Phone Number",),
    "street": ("Street Address",),
    "city": ("City",),
    "postcode": ("Postal Code", "Zip"),
    "country": ("Country/Region", "Country"),
    "type": ("Type", "Lifecycle Stage"),
    "owner": ("Company owner", "Company Owner"),
    "created": ("Create Date", "Created Date"),
}
