"""The OSS side: the object and multipart calls oss2 and alibabacloud-oss-v2 make to upload.

Every request is authenticated against the STS grants the Youku side handed out (V1 or V4,
in headers or a signed URL), must carry the grant's security token, and may touch only the
grant's bucket and object. Errors are OSS's ``<Error>`` XML with the real codes and statuses.

- ``wire``: the protocol itself - routes, the error answer, request parsing, response shapes.
- ``auth``: who may make a call (signature, token, expiry, the grant's bucket and object).
- ``disk``: request bodies to the store's files, on the disk threads.
- ``objects`` / ``multipart``: the operations.
- ``service``: the entry point that ties them together.
"""

from youku_tui.sandbox.oss.service import OssService
from youku_tui.sandbox.oss.wire import OssCall, new_request_id, route_of, status_error

__all__ = ["OssCall", "OssService", "new_request_id", "route_of", "status_error"]
