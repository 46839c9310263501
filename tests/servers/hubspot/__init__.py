"""A HubSpot portal served over the CRM v3/v4 APIs, with its rate limits."""
