"""The object calls: PutObject, HeadObject, GetObject and DeleteObject."""

from __future__ import annotations

import time
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import BinaryIO

from aiohttp import web

from youku_tui.sandbox.oss.disk import OssDisk
from youku_tui.sandbox.oss.wire import (
    OssCall,
    OssErrorAnswer,
    common_headers,
    parse_range,
    stored_response,
)
from youku_tui.sandbox.store import ObjectInfo, md5_etag

COPY_CHUNK = 1024 * 1024


class ObjectCalls:
    def __init__(self, disk: OssDisk) -> None:
        self.disk = disk
        self.store = disk.store

    async def put_object(self, call: OssCall) -> web.StreamResponse:
        body = await self.disk.receive(call)
        info = ObjectInfo(
            bucket=call.bucket,
            key=call.key,
            size=body.size,
            md5_hex=body.md5_hex,
            crc64=body.crc64,
            etag=md5_etag(body.md5_hex),
            content_type=call.request.headers.get("Content-Type", "application/octet-stream"),
            last_modified=time.time(),
        )
        await self.disk.run(lambda: self.store.install_object(body.path, info))
        self.store.objects[(info.bucket, info.key)] = info
        return stored_response(call, info.etag, info.crc64, body.md5)

    def _object(self, call: OssCall) -> ObjectInfo:
        info = self.store.objects.get((call.bucket, call.key))
        if info is None:
            raise OssErrorAnswer(
                404, "NoSuchKey", "The specified key does not exist.", {"Key": call.key}
            )
        return info

    @staticmethod
    def _object_headers(call: OssCall, info: ObjectInfo) -> dict[str, str]:
        headers = common_headers(call)
        headers.update(
            {
                "ETag": info.etag,
                "x-oss-hash-crc64ecma": str(info.crc64),
                "Last-Modified": formatdate(info.last_modified, usegmt=True),
                "Content-Type": info.content_type,
                "Accept-Ranges": "bytes",
                "x-oss-object-type": "Multipart" if "-" in info.etag else "Normal",
                "x-oss-storage-class": "Standard",
            }
        )
        return headers

    async def head_object(self, call: OssCall) -> web.StreamResponse:
        info = self._object(call)
        headers = self._object_headers(call, info)
        headers["Content-Length"] = str(info.size)
        return web.Response(status=200, headers=headers)

    async def get_object(self, call: OssCall) -> web.StreamResponse:
        info = self._object(call)
        start, end = 0, info.size - 1
        status = 200
        headers = self._object_headers(call, info)
        wanted = parse_range(call.request.headers.get("Range", ""), info.size)
        if wanted is not None:
            start, end = wanted
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
        length = max(0, end - start + 1)
        headers["Content-Length"] = str(length)
        response = web.StreamResponse(status=status, headers=headers)
        await response.prepare(call.request)
        path = self.store.object_data_path(info.bucket, info.key)
        handle = await self.disk.run(partial(_open_for_reading, path))
        try:
            await self.disk.run(lambda: handle.seek(start))
            remaining = length
            step = call.throttle.chunk_size if call.throttle else COPY_CHUNK
            while remaining > 0:
                size = min(step, remaining)
                chunk = await self.disk.run(partial(handle.read, size))
                if not chunk:
                    break
                if call.throttle:
                    await call.throttle.consume(len(chunk))
                await response.write(chunk)
                remaining -= len(chunk)
        finally:
            handle.close()
        await response.write_eof()
        return response

    async def delete_object(self, call: OssCall) -> web.StreamResponse:
        if self.store.objects.pop((call.bucket, call.key), None) is not None:
            await self.disk.run(lambda: self.store.delete_object(call.bucket, call.key))
        return web.Response(status=204, headers=common_headers(call))


def _open_for_reading(path: Path) -> BinaryIO:
    return open(path, "rb")
