"""Single sign-on with an OpenID Connect provider, through mozilla-django-oidc.

`provider` fetches the provider's discovery document and keys; `tokens` verifies an ID token (pure);
`backend` is the library's backend with the portal's verification and sign-in; `services` owns the
sign-in (users by issuer and subject, memberships from group mappings) and the mappings; `views` are
the start, the callback, the sign-out and the pages that say what went wrong.
"""
