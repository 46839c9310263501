"""A Salesforce org served over REST, SOAP and Bulk API 2.0."""
