"""TLS for the two listeners: one certificate and key (``APICRON_TLS_CERT`` /
``APICRON_TLS_KEY``, PEM files) for the management API and the gateway, and optionally
client certificates required at the gateway (``APICRON_TLS_CLIENT_CA``: the PEM bundle of
the CAs that issue them). Without a certificate both listeners speak plain HTTP, which
suits loopback only: an app secret (``X-HW-AppKey``) and the admin token travel in clear.
"""

from __future__ import annotations

import ssl

from apicron.domain.errors import ConfigurationError
from apicron.settings import Settings


def _reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError):
        return str(error.reason or error).lower().replace("_", " ")
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)


def gateway_context(settings: Settings) -> ssl.SSLContext | None:
    """The gateway's server-side TLS context, or ``None`` without a certificate.

    Loading it is also the start-up check of the files: raises
    :class:`~apicron.domain.errors.ConfigurationError` in one line naming the setting.
    """
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (ssl.SSLError, OSError) as error:
        raise ConfigurationError(
            f"APICRON_TLS_CERT and APICRON_TLS_KEY cannot be used together: {_reason(error)} "
            "(a PEM certificate, then the PEM private key of that certificate)"
        ) from None
    if settings.tls_client_ca is not None:
        try:
            context.load_verify_locations(cafile=settings.tls_client_ca)
        except (ssl.SSLError, OSError) as error:
            raise ConfigurationError(
                f"APICRON_TLS_CLIENT_CA cannot be used: {_reason(error)} (a PEM bundle of "
                "the CA certificates that issue client certificates)"
            ) from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context
