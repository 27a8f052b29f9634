"""moto_server with additions for what moto lacks (everything else goes to moto as is):

- A clock for resources. AWS (and moto) stamp a resource with the time it is created, so an
  account with a 100-day-old access key cannot be built through the API in a test.
  `POST /__keysentry/backdate?kind=access-key|instance&id=ID&days=N` moves that resource's
  creation (launch) time N days into the past.
- Realistic secrets. moto makes every secret access key 40 alphanumerics; AWS's are base64-like
  (with `/` and `+`, sometimes no digit), and the rotation tests need exactly such secrets.
  `POST /__keysentry/set-secret?id=ID` (body: the secret) gives an existing key that secret, and
  `POST /__keysentry/next-secrets` (body: secrets, one a line) queues the secrets the next
  CreateAccessKey calls return.
- Signature checks for sts:GetCallerIdentity. moto answers it from the key id alone (unless its
  whole IAM authorization is switched on, which would need policies for every test identity);
  AWS checks the signature and refuses inactive keys. For an IAM user's key (AKIA…) this wrapper
  checks the SigV4 signature with moto's own IAMRequest and refuses inactive or wrong-secret keys
  with the error AWS returns, so a test can prove a key id *and its secret* work.
- CloudTrail event history (moto does not implement LookupEvents): `POST /__keysentry/cloudtrail`
  with `{"Records": [...]}` (records in the shape CloudTrail writes to its log files) stores them;
  `LookupEvents` (CloudTrail's JSON protocol) answers from them as AWS does: the region of the
  request's signature, one lookup attribute, StartTime/EndTime, newest first, at most MaxResults
  (50) per page with a NextToken. `POST /moto-api/reset` clears them too.
- EC2 security groups of instances and their network interfaces (moto 5.2 keeps them apart).
  On AWS an instance's `SecurityGroups` are its primary network interface's (device index 0):
  `ModifyInstanceAttribute Groups` changes that interface, `ModifyNetworkInterfaceAttribute` on it
  shows in `DescribeInstances`, and each interface reports only its own groups. moto stores the
  instance's list apart, never updates it from an interface, and makes every attached interface
  report the union of its own groups and the instance's. `_patch_instance_groups()` makes the
  instance's list a view of its primary interface's and each interface report only its own.
- EC2 ED25519 key pair fingerprints. AWS shows an ED25519 key pair's fingerprint as OpenSSH does
  (base64 of the SHA-256 of the OpenSSH public key blob, with its padding); moto 5.2 gives colon
  hex of the SHA-256 of the DER public key. `_patch_ed25519_fingerprint()` answers as AWS does
  (imported RSA keys already match AWS: MD5 of the DER public key).
"""
import argparse
import io
from datetime import timedelta
from urllib.parse import parse_qs

import moto.iam.models as iam_models

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


# ---- EC2: an instance's groups are its primary interface's (see the module docstring) ----
def _patch_instance_groups():
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ec2.models.instances import Instance

    def get_groups(self):
        nics = self.__dict__.get("nics")
        if nics and 0 in nics:
            return list(nics[0]._group_set)
        # Before prep_nics has made the interfaces (during Instance.__init__): the launch request's groups.
        return list(self.__dict__.get("_keysentry_launch_groups", []))

    def set_groups(self, groups):
        nics = self.__dict__.get("nics")
        if nics and 0 in nics:
            nics[0]._group_set = list(groups)
        else:
            self.__dict__["_keysentry_launch_groups"] = list(groups)

    Instance.security_groups = property(get_groups, set_groups)
    NetworkInterface.group_set = property(lambda self: list(self._group_set))


_patch_instance_groups()


# ---- EC2: ED25519 key pair fingerprints as AWS shows them (see the module docstring) ----
def _patch_ed25519_fingerprint():
    import base64
    import hashlib
    import struct

    import moto.ec2.models.key_pairs as key_pairs
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    original = key_pairs.public_key_fingerprint

    def fingerprint(public_key, hash_constructor):
        if not isinstance(public_key, Ed25519PublicKey):
            return original(public_key, hash_constructor)
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        blob = b"".join(struct.pack(">I", len(x)) + x for x in (b"ssh-ed25519", raw))
        return base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")

    key_pairs.public_key_fingerprint = fingerprint


_patch_ed25519_fingerprint()


def backdate(kind, resource_id, days):
    delta = timedelta(days=days)
    if kind == "access-key":
        from moto.iam.models import iam_backends

        for account in iam_backends.values():
            for backend in account.values():
                key = backend.access_keys.get(resource_id)
                if key is not None:
                    key.create_date = key.create_date - delta
                    return True
    elif kind == "instance":
        from moto.ec2.models import ec2_backends

        for account in ec2_backends.values():
            for backend in account.values():
                for reservation in backend.reservations.values():
                    for instance in reservation.instances:
                        if instance.id == resource_id:
                            instance.launch_time = instance.launch_time - delta
                            return True
    return False


_trail_records = []


def _lookup_value(record, key):
    identity = record.get("userIdentity") or {}
    if key == "AccessKeyId":
        return identity.get("accessKeyId")
    if key == "Username":
        return identity.get("userName") or (identity.get("sessionContext", {}).get("sessionIssuer", {}) or {}).get("userName")
    if key == "EventName":
        return record.get("eventName")
    if key == "EventSource":
        return record.get("eventSource")
    if key == "EventId":
        return record.get("eventID")
    if key == "ReadOnly":
        return str(record.get("readOnly", "false")).lower()
    return None


def _epoch(iso):
    from datetime import datetime

    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").timestamp() if "." not in iso else datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def lookup_events(region, body):
    import json

    attrs = body.get("LookupAttributes") or []
    if len(attrs) > 1:
        return 400, {"__type": "InvalidLookupAttributesException", "message": "Only one lookup attribute is allowed."}
    start = body.get("StartTime")
    end = body.get("EndTime")
    max_results = int(body.get("MaxResults") or 50)
    if max_results < 1 or max_results > 50:
        return 400, {"__type": "InvalidMaxResultsException", "message": "MaxResults must be between 1 and 50."}
    matches = []
    for r in _trail_records:
        if r.get("awsRegion") != region:
            continue
        t = _epoch(r["eventTime"])
        if start is not None and t < float(start):
            continue
        if end is not None and t > float(end):
            continue
        if attrs and _lookup_value(r, attrs[0].get("AttributeKey")) != attrs[0].get("AttributeValue"):
            continue
        matches.append((t, r))
    matches.sort(key=lambda m: m[0], reverse=True)
    offset = int(body.get("NextToken") or 0)
    page = matches[offset : offset + max_results]
    events = []
    for t, r in page:
        identity = r.get("userIdentity") or {}
        events.append(
            {
                "EventId": r.get("eventID"),
                "EventName": r.get("eventName"),
                "ReadOnly": str(r.get("readOnly", "false")).lower(),
                "AccessKeyId": identity.get("accessKeyId"),
                "EventTime": t,
                "EventSource": r.get("eventSource"),
                "Username": identity.get("userName"),
                "Resources": [],
                "CloudTrailEvent": json.dumps(r),
            }
        )
    out = {"Events": events}
    if offset + max_results < len(matches):
        out["NextToken"] = str(offset + max_results)
    return 200, out


def _signed_region(environ):
    import re

    m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return m.group(1) if m else "us-east-1"


_next_secrets = []
_moto_random = iam_models.random_alphanumeric


def _random_alphanumeric(length):
    # Only AccessKey() asks for 40 characters: hand it a queued realistic secret when there is one.
    if length == 40 and _next_secrets:
        return _next_secrets.pop(0)
    return _moto_random(length)


iam_models.random_alphanumeric = _random_alphanumeric


def set_secret(key_id, secret):
    from moto.iam.models import iam_backends

    for account in iam_backends.values():
        for backend in account.values():
            for user in list(backend.users.values()):
                for key in list(user.access_keys):
                    if key.access_key_id == key_id:
                        key.secret_access_key = secret
                        return True
    return False


def _key_status(key_id):
    from moto.iam.models import iam_backends

    for account in iam_backends.values():
        for backend in account.values():
            for user in list(backend.users.values()):
                for key in list(user.access_keys):
                    if key.access_key_id == key_id:
                        return key.status
    return None


ERROR_XML = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>{code}</Code><Message>{message}</Message></Error><RequestId>keysentry-moto</RequestId></ErrorResponse>"
)


LIST_SSC_XML = (
    '<ListServiceSpecificCredentialsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    "<ListServiceSpecificCredentialsResult><ServiceSpecificCredentials/></ListServiceSpecificCredentialsResult>"
    "<ResponseMetadata><RequestId>keysentry-moto</RequestId></ResponseMetadata></ListServiceSpecificCredentialsResponse>"
)


def check_caller_identity(environ, body):
    """None when the request may go on to moto; else (status, code, message) as AWS answers."""
    from moto.iam.access_control import IAMRequest

    headers = {}
    for k, v in environ.items():
        if k.startswith("HTTP_"):
            headers[k[5:].replace("_", "-").title()] = v
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    auth = headers.get("Authorization", "")
    key_id = auth.partition("Credential=")[2].partition("/")[0]
    status = _key_status(key_id) if key_id.startswith("AKIA") else None
    if status is None:
        return None  # not an IAM user's key moto knows: moto's own behaviour
    if status != "Active":
        return ("403 Forbidden", "InvalidClientTokenId", "The security token included in the request is invalid.")
    data = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
    path = environ.get("PATH_INFO", "/") + (("?" + environ["QUERY_STRING"]) if environ.get("QUERY_STRING") else "")
    for attempt in range(5):
        try:
            IAMRequest(
                account_id="123456789012", method=environ["REQUEST_METHOD"], path=path, data=data, body=body, headers=headers, action="GetCallerIdentity"
            ).check_signature()
        except RuntimeError:
            # moto's users dict changed size while IAMRequest walked it (another request created a user): look again
            continue
        except Exception:  # moto's SignatureDoesNotMatchError (or an unknown key)
            return (
                "403 Forbidden",
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        return None
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ, start_response):
        import json

        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.endswith("CloudTrail_20131101.LookupEvents"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            status, out = lookup_events(_signed_region(environ), body)
            start_response("200 OK" if status == 200 else "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1")])
            return [json.dumps(out).encode()]
        if environ.get("PATH_INFO") == "/__keysentry/cloudtrail":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            _trail_records.extend(json.loads(environ["wsgi.input"].read(length) or b"{}").get("Records", []))
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if environ.get("PATH_INFO") == "/moto-api/reset":
            _trail_records.clear()
        if environ.get("PATH_INFO") == "/__keysentry/backdate":
            q = parse_qs(environ.get("QUERY_STRING", ""))
            ok = backdate(q.get("kind", [""])[0], q.get("id", [""])[0], float(q.get("days", ["0"])[0]))
            start_response("200 OK" if ok else "404 Not Found", [("Content-Type", "text/plain")])
            return [b"ok" if ok else b"not found"]
        if environ.get("PATH_INFO") == "/moto-api/reset":
            _next_secrets.clear()
        if environ.get("PATH_INFO") in ("/__keysentry/set-secret", "/__keysentry/next-secrets"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            text = environ["wsgi.input"].read(length).decode("utf-8")
            if environ["PATH_INFO"] == "/__keysentry/next-secrets":
                _next_secrets.extend(line for line in text.split("\n") if line)
                ok = True
            else:
                ok = set_secret(parse_qs(environ.get("QUERY_STRING", "")).get("id", [""])[0], text.strip())
            start_response("200 OK" if ok else "404 Not Found", [("Content-Type", "text/plain")])
            return [b"ok" if ok else b"not found"]
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("HTTP_AUTHORIZATION"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            if b"Action=ListServiceSpecificCredentials" in body:
                # investigate: moto lacks ListServiceSpecificCredentials (a user's deletion reads it):
                # answered as AWS does for a user without such credentials.
                start_response("200 OK", [("Content-Type", "text/xml")])
                return [LIST_SSC_XML.encode("utf-8")]
            if b"Action=GetCallerIdentity" in body:
                refusal = check_caller_identity(environ, body)
                if refusal:
                    status, code, message = refusal
                    start_response(status, [("Content-Type", "text/xml")])
                    return [ERROR_XML.format(code=code, message=message).encode("utf-8")]
        return moto_app(environ, start_response)

    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
