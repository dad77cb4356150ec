"""Request plumbing shared by every route: templating (the one Jinja environment factory, also
used by mail and the PDF), the database session and current user, CSRF, htmx and forms.

Import from the submodules; this package's ``__init__`` stays empty so that services can import
:mod:`app.web.templating` without pulling in the request layer."""
