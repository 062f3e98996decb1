"""TLS on both listeners (APICRON_TLS_CERT / APICRON_TLS_KEY), client certificates on the
gateway (APICRON_TLS_CLIENT_CA), and the console cookie's Secure flag behind HTTPS or a
proxy that says so (APICRON_FORWARDED_ALLOW_IPS). A CA, a server certificate for 127.0.0.1
and a client certificate are made with ``cryptography`` for each run; real HTTPS calls
through a real ``apicron serve`` to a real backend on loopback."""

from __future__ import annotations

import ipaddress
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apicron.domain.errors import ConfigurationError
from apicron.settings import load_settings
from tests.conftest import World
from tests.servers import ADMIN_TOKEN, ApicronProcess
from tests.test_gateway import Backend, hw, path_of, setup


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = Backend().start()
    yield server
    server.stop()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    path.chmod(0o600)


def _issue(
    subject: str, ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name, *, ca: bool,
    usage: x509.ObjectIdentifier | None = None, ip: str | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject)).issuer_name(ca_name if not ca else _name(subject))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if ip is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False,
        )
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    return key, builder.sign(key if ca else ca_key, hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path
    client_ca: Path
    client_cert: Path
    client_key: Path

    def verifying(self, client: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        if client:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    files = {name: folder / f"{name}.pem" for name in
             ("ca", "cert", "key", "client_ca", "client_cert", "client_key")}
    ca_key, ca = _issue("apicron test CA", ec.generate_private_key(ec.SECP256R1()),
                        _name("x"), ca=True)
    key, cert = _issue("127.0.0.1", ca_key, ca.subject, ca=False,
                       usage=ExtendedKeyUsageOID.SERVER_AUTH, ip="127.0.0.1")
    client_ca_key, client_ca = _issue("apicron test client CA",
                                      ec.generate_private_key(ec.SECP256R1()), _name("x"),
                                      ca=True)
    client_key, client_cert = _issue("scheduler-client", client_ca_key, client_ca.subject,
                                     ca=False, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    for name, certificate in (("ca", ca), ("cert", cert), ("client_ca", client_ca),
                              ("client_cert", client_cert)):
        files[name].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    _write_key(key, files["key"])
    _write_key(client_key, files["client_key"])
    return Pki(**files)


class TlsProcess(ApicronProcess):
    """``apicron serve`` whose listeners speak HTTPS: ready once it logs that it listens."""

    def __init__(self, data_dir: Path, env: dict[str, str]):
        super().__init__(data_dir, env)
        self.url = f"https://127.0.0.1:{self.api_port}"

    def start(self, timeout: float = 30) -> TlsProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "apicron", "serve"], env=self.env, stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"apicron exited at start:\n{self.log()}")
            if "Uvicorn running on" in self.log():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"apicron did not start:\n{self.log()}")


@pytest.fixture(scope="module")
def tls_server(
    pki: Pki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TlsProcess]:
    env = {"APICRON_TLS_CERT": str(pki.cert), "APICRON_TLS_KEY": str(pki.key),
           "APICRON_TLS_CLIENT_CA": str(pki.client_ca)}
    process = TlsProcess(tmp_path_factory.mktemp("tls") / "data", env).start()
    yield process
    process.stop()


def test_a_real_https_call_goes_through_the_gateway_to_the_backend(
    tls_server: TlsProcess, pki: Pki, backend: Backend
) -> None:
    with httpx.Client(base_url=tls_server.url, verify=pki.verifying(), timeout=30,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        assert client.get("/healthz").status_code == 200
        world = World(client)
        marker = backend.path()
        app, api = setup(world, backend_url=backend.url(marker))
        instance = client.get("/v1/instance").json()
        assert instance["gateway_url"] == f"https://127.0.0.1:{tls_server.gateway_port}"
    gateway_url = f"https://127.0.0.1:{tls_server.gateway_port}"
    with httpx.Client(base_url=gateway_url, verify=pki.verifying(client=True),
                      timeout=30) as gw:
        r = gw.post(path_of(api, id="1"), headers=hw(app))
        assert r.status_code == 200, r.text
    seen = backend.one(marker)
    assert seen.header("X-Forwarded-Proto") == ["https"]


def test_the_gateway_asks_for_a_client_certificate_from_the_client_ca(
    tls_server: TlsProcess, pki: Pki
) -> None:
    gateway_url = f"https://127.0.0.1:{tls_server.gateway_port}/anything"
    with pytest.raises(httpx.HTTPError):  # TLS alert: certificate required
        httpx.get(gateway_url, verify=pki.verifying(), timeout=10)
    assert httpx.get(gateway_url, verify=pki.verifying(client=True), timeout=10
                     ).status_code == 404


def test_plain_http_to_a_tls_listener_gets_no_answer(tls_server: TlsProcess) -> None:
    for port in (tls_server.api_port, tls_server.gateway_port):
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)


def _login_cookie(client: httpx.Client, headers: dict[str, str] | None = None) -> str:
    """The Set-Cookie headers of a console login (the login form's CSRF cookie is sent back
    by hand: behind a TLS-terminating proxy the browser would send its Secure cookie)."""
    page = client.get("/console/login", headers=headers)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    csrf_cookie = page.headers["set-cookie"]
    sent = {**(headers or {}), "Cookie": csrf_cookie.split(";", 1)[0]}
    client.cookies.clear()
    r = client.post("/console/login", headers=sent, data={
        "password": ADMIN_TOKEN, "csrf_token": match[1], "next": ""})
    assert r.status_code == 303, r.text
    return csrf_cookie + "\n" + r.headers["set-cookie"]


def test_the_console_cookies_are_secure_over_https(tls_server: TlsProcess, pki: Pki) -> None:
    with httpx.Client(base_url=tls_server.url, verify=pki.verifying(), timeout=30) as client:
        cookies = _login_cookie(client)
    assert cookies.count("Secure") >= 2, cookies  # the login form's and the session's


def test_the_console_cookie_is_secure_behind_a_trusted_proxy_only(
    tmp_path: Path,
) -> None:
    proxy = {"X-Forwarded-Proto": "https"}
    trusted = ApicronProcess(tmp_path / "a", {"APICRON_FORWARDED_ALLOW_IPS": "127.0.0.1"})
    untrusted = ApicronProcess(tmp_path / "b", {"APICRON_FORWARDED_ALLOW_IPS": "10.0.0.1"})
    for process, secure in ((trusted.start(), True), (untrusted.start(), False)):
        try:
            with httpx.Client(base_url=process.url, timeout=30) as client:
                cookies = _login_cookie(client, proxy)
            assert cookies.count("Secure") == (2 if secure else 0), cookies
        finally:
            process.stop()


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"APICRON_TLS_CERT": "/x.pem"}, "APICRON_TLS_CERT and APICRON_TLS_KEY go together"),
        ({"APICRON_TLS_CLIENT_CA": "/x.pem"}, "APICRON_TLS_CLIENT_CA needs APICRON_TLS_CERT"),
        ({"APICRON_TLS_CERT": "/nonexistent.pem", "APICRON_TLS_KEY": "/nonexistent.pem"},
         "APICRON_TLS_CERT cannot be read"),
        ({"APICRON_FORWARDED_ALLOW_IPS": "proxy.internal"}, "APICRON_FORWARDED_ALLOW_IPS must"),
    ],
)
def test_a_bad_tls_setting_is_refused_naming_it(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigurationError, match=words):
        load_settings(env)


def test_a_key_that_does_not_match_the_certificate_fails_at_start(
    pki: Pki, tmp_path: Path
) -> None:
    process = TlsProcess(tmp_path / "data", {"APICRON_TLS_CERT": str(pki.cert),
                                             "APICRON_TLS_KEY": str(pki.client_key)})
    try:
        with pytest.raises(RuntimeError, match="APICRON_TLS_KEY"):
            process.start()
    finally:
        process.stop()
    assert "Traceback" not in process.log()
