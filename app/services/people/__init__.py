"""People: accounts, authentication, sessions, API tokens and sign-in links."""
