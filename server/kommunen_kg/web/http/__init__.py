"""The HTTP layer every response passes through: negotiation, validators, gzip, CORS, the
response cache."""
