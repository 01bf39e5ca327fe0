"""The lawyer console: server-rendered pages under /lawyer/ and /admin/, login at /login.

Actions are POST forms carrying the session's CSRF token; each answers with a redirect back
to the page and a one-line message (POST, redirect, GET).  Templates autoescape everything:
residents' text is never marked safe.
"""
# Kept light: importing a submodule (e.g. the settings) must not import the routes.
