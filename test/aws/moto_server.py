"""moto_server with one addition for seeding test accounts: a clock for resources.

AWS (and moto) stamp a resource with the time it is created, so an account with a 100-day-old
access key cannot be built through the API in a test. This wrapper runs moto's own server app
and adds `POST /__keysentry/backdate?kind=access-key|instance&id=ID&days=N`, which moves that
resource's creation (launch) time N days into the past. Every other request goes to moto as is.
"""
import argparse
from datetime import timedelta
from urllib.parse import parse_qs

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/__keysentry/backdate":
            q = parse_qs(environ.get("QUERY_STRING", ""))
            ok = backdate(q.get("kind", [""])[0], q.get("id", [""])[0], float(q.get("days", ["0"])[0]))
            start_response("200 OK" if ok else "404 Not Found", [("Content-Type", "text/plain")])
            return [b"ok" if ok else b"not found"]
        return moto_app(environ, start_response)

    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
