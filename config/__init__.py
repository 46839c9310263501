"""Configuration: settings from the environment (``settings``) and the policy file's schema (``policy*``).

The packaged ``policy.yaml`` encodes the seed documents' rules. May import ``domain`` and each CRM
package's settings (through ``connectors``).
"""
