"""The columns of a Salesforce account export (report builder or Data Export), by the field they hold.

For each field, the first column present in a file is used.
"""

ACCOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("Account ID", "Id", "ID"),
    "name": ("Account Name", "Name"),
    "website": ("Website",),
    "phone": ("Phone",),
    "street": ("Billing Street", "BillingStreet", "Billing Address Line 1"),
    "city": ("Billing City", "BillingCity"),
    "postcode": ("Billing Zip/Postal Code", "Billing Postal Code", "BillingPostalCode"),
    "country": ("Billing Country", "BillingCountry"),
    "type": ("Type", "Account Type"),
    "owner": ("Account Owner", "Owner ID", "OwnerId"),
    "created": ("Created Date", "CreatedDate"),
}
