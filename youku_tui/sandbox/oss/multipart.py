"""The multipart calls: initiate, parts, list, complete, abort, and the uploads' listing.

Parts are folded into an assembly file in the background as they arrive in sequence, so that
CompleteMultipartUpload only has the tail left to fold.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Coroutine
from functools import partial
from urllib.parse import quote

from aiohttp import web

from youku_tui.sandbox import xml
from youku_tui.sandbox.assembly import Assembly
from youku_tui.sandbox.bodies import discard
from youku_tui.sandbox.oss.disk import OssDisk
from youku_tui.sandbox.oss.wire import (
    MAX_COMPLETE_BODY,
    MAX_PART_NUMBER,
    MIN_PART_SIZE,
    OssCall,
    OssErrorAnswer,
    common_headers,
    encode_key,
    int_param,
    iso_millis,
    no_such_upload,
    stored_response,
    xml_response,
)
from youku_tui.sandbox.store import (
    MultipartUpload,
    ObjectInfo,
    PartInfo,
    StsGrant,
    new_upload_id,
)


class MultipartCalls:
    def __init__(self, disk: OssDisk, endpoint: Callable[[], str]) -> None:
        # Part numbers per upload id in the order their requests arrived (for tests).
        self.part_log: dict[str, list[int]] = {}
        self.assemblies: dict[str, Assembly] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.disk = disk
        self.store = disk.store
        self.endpoint = endpoint

    def _upload(self, call: OssCall) -> MultipartUpload:
        upload_id = call.request.query.get("uploadId", "")
        upload = self.store.uploads.get(upload_id)
        if upload is None or upload.bucket != call.bucket or upload.key != call.key:
            raise no_such_upload()
        return upload

    async def initiate(self, call: OssCall) -> web.StreamResponse:
        await discard(call.request)
        upload = MultipartUpload(
            upload_id=new_upload_id(),
            bucket=call.bucket,
            key=call.key,
            initiated=time.time(),
            content_type=call.request.headers.get("Content-Type", "application/octet-stream"),
        )
        await self.disk.run(lambda: self.store.create_upload(upload))
        self.store.uploads[upload.upload_id] = upload
        nodes: list[xml.Node] = [
            ("Bucket", call.bucket),
            ("Key", encode_key(call, call.key)),
            ("UploadId", upload.upload_id),
        ]
        if call.request.query.get("encoding-type") == "url":
            nodes.append(("EncodingType", "url"))
        return xml_response(call, ("InitiateMultipartUploadResult", nodes))

    async def upload_part(self, call: OssCall) -> web.StreamResponse:
        upload = self._upload(call)
        try:
            number = int(call.request.query.get("partNumber", ""))
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_PART_NUMBER:
            raise OssErrorAnswer(
                400,
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive.",
            )
        self.part_log.setdefault(upload.upload_id, []).append(number)
        body = await self.disk.receive(call)
        if self.store.uploads.get(upload.upload_id) is not upload or upload.completing:
            body.path.unlink(missing_ok=True)  # aborted or completed while the part streamed
            raise no_such_upload()
        part = PartInfo(number, body.size, body.md5_hex, body.crc64, time.time())
        await self.disk.run(lambda: self.store.install_part(upload.upload_id, body.path, part))
        upload.parts[number] = part
        self._spawn(self._fold_ahead(upload))
        return stored_response(call, part.etag, part.crc64, body.md5)

    async def list_parts(self, call: OssCall) -> web.StreamResponse:
        upload = self._upload(call)
        query = call.request.query
        max_parts = int_param(query, "max-parts", 1000, 1, 1000)
        marker = int_param(query, "part-number-marker", 0, 0, MAX_PART_NUMBER)
        after = sorted(n for n in upload.parts if n > marker)
        shown = after[:max_parts]
        truncated = len(after) > len(shown)
        nodes: list[xml.Node] = [
            ("Bucket", call.bucket),
            ("Key", encode_key(call, call.key)),
            ("UploadId", upload.upload_id),
            ("PartNumberMarker", str(marker)),
            ("NextPartNumberMarker", str(shown[-1]) if shown else ""),
            ("MaxParts", str(max_parts)),
            ("IsTruncated", "true" if truncated else "false"),
        ]
        if query.get("encoding-type") == "url":
            nodes.append(("EncodingType", "url"))
        for number in shown:
            part = upload.parts[number]
            nodes.append(
                (
                    "Part",
                    [
                        ("PartNumber", str(number)),
                        ("LastModified", iso_millis(part.last_modified)),
                        ("ETag", part.etag),
                        ("HashCrc64ecma", str(part.crc64)),
                        ("Size", str(part.size)),
                    ],
                )
            )
        return xml_response(call, ("ListPartsResult", nodes))

    async def abort(self, call: OssCall) -> web.StreamResponse:
        upload = self._upload(call)
        del self.store.uploads[upload.upload_id]
        assembly = self.assemblies.pop(upload.upload_id, None)
        if assembly is not None:
            async with assembly.lock:  # let a fold in progress finish before removing files
                pass
        await self.disk.run(lambda: self.store.remove_upload(upload.upload_id))
        return web.Response(status=204, headers=common_headers(call))

    async def complete(self, call: OssCall) -> web.StreamResponse:
        upload = self._upload(call)
        request = call.request
        if (request.content_length or 0) > MAX_COMPLETE_BODY:
            raise OssErrorAnswer(400, "MalformedXML", "The XML you provided was not well-formed.")
        raw = await request.read()
        if request.headers.get("x-oss-complete-all", "").lower() == "yes":
            if raw.strip():
                raise OssErrorAnswer(
                    400, "InvalidArgument", "x-oss-complete-all must come without a body."
                )
            wanted = [xml.CompletePart(n, upload.parts[n].etag) for n in sorted(upload.parts)]
        else:
            try:
                wanted = xml.parse_complete_body(raw)
            except xml.MalformedXML as exc:
                raise OssErrorAnswer(
                    400, "MalformedXML", "The XML you provided was not well-formed."
                ) from exc
        if upload.completing:
            raise no_such_upload()
        parts = self._check_complete(upload, wanted)
        upload.completing = True
        try:
            info = await self._finish(upload, parts, request.headers.get("Content-Type", ""))
        except BaseException:
            upload.completing = False
            raise
        self.store.uploads.pop(upload.upload_id, None)
        self.assemblies.pop(upload.upload_id, None)
        self.store.objects[(info.bucket, info.key)] = info
        nodes: list[xml.Node] = []
        if request.query.get("encoding-type") == "url":
            nodes.append(("EncodingType", "url"))
        nodes += [
            ("Location", f"{self.endpoint()}/{call.bucket}/{quote(call.key, safe='/')}"),
            ("Bucket", call.bucket),
            ("Key", encode_key(call, call.key)),
            ("ETag", info.etag),
        ]
        return xml_response(
            call,
            ("CompleteMultipartUploadResult", nodes),
            {"ETag": info.etag, "x-oss-hash-crc64ecma": str(info.crc64)},
        )

    @staticmethod
    def _check_complete(upload: MultipartUpload, wanted: list[xml.CompletePart]) -> list[PartInfo]:
        if not wanted:
            raise OssErrorAnswer(400, "MalformedXML", "The XML you provided was not well-formed.")
        parts: list[PartInfo] = []
        previous = 0
        for item in wanted:
            if item.part_number <= previous:
                raise OssErrorAnswer(
                    400,
                    "InvalidPartOrder",
                    "The list of parts was not in "
                    "ascending order. Parts list must be specified in order by part "
                    "number.",
                )
            previous = item.part_number
            part = upload.parts.get(item.part_number)
            if part is None or item.etag.strip('"').upper() != part.md5_hex.upper():
                raise OssErrorAnswer(
                    400,
                    "InvalidPart",
                    "One or more of the specified parts could not be found or the specified "
                    "entity tag might not have matched the part's entity tag.",
                    {"PartNumber": str(item.part_number), "ETag": item.etag},
                )
            parts.append(part)
        for part in parts[:-1]:
            if part.size < MIN_PART_SIZE:
                raise OssErrorAnswer(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size.",
                    {
                        "PartNumber": str(part.number),
                        "ProposedSize": str(part.size),
                        "MinSizeAllowed": str(MIN_PART_SIZE),
                    },
                )
        return parts

    def _assembly(self, upload: MultipartUpload) -> Assembly:
        assembly = self.assemblies.get(upload.upload_id)
        if assembly is None:
            path = self.store.upload_dir(upload.upload_id) / "assembly.bin"
            assembly = self.assemblies[upload.upload_id] = Assembly(path)
            assembly.broken = True  # the file may hold a previous run's bytes
        return assembly

    def _spawn(self, coro: Coroutine[None, None, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _fold_ahead(self, upload: MultipartUpload) -> None:
        """Append the parts that are next in sequence to the upload's assembly."""
        assembly = self._assembly(upload)
        if assembly.lock.locked():
            return  # the fold in progress picks the new part up (or Complete will)
        async with assembly.lock:
            try:
                if assembly.broken:
                    await self.disk.run(assembly.reset)
                while self.store.uploads.get(upload.upload_id) is upload and not upload.completing:
                    part = upload.parts.get(assembly.next_number())
                    if part is None:
                        break
                    source = self.store.part_data_path(upload.upload_id, part.number)
                    await self.disk.run(partial(assembly.append, part, source))
            except OSError:
                assembly.broken = True  # e.g. aborted meanwhile; Complete starts over

    async def _finish(
        self, upload: MultipartUpload, parts: list[PartInfo], content_type: str
    ) -> ObjectInfo:
        """Fold whatever the background has not, then install the object."""
        assembly = self._assembly(upload)
        async with assembly.lock:
            if not assembly.matches_prefix(parts):
                await self.disk.run(assembly.reset)
            for part in parts[len(assembly.folded) :]:
                source = self.store.part_data_path(upload.upload_id, part.number)
                await self.disk.run(partial(assembly.append, part, source))
            etag_md5 = hashlib.md5()  # noqa: S324 - OSS's multipart ETag is MD5 of part MD5s
            for part in parts:
                etag_md5.update(bytes.fromhex(part.md5_hex))
            info = ObjectInfo(
                bucket=upload.bucket,
                key=upload.key,
                size=assembly.size,
                md5_hex=assembly.md5.hexdigest(),
                crc64=assembly.crc.value,
                etag=f'"{etag_md5.hexdigest().upper()}-{len(parts)}"',
                content_type=content_type or upload.content_type,
                last_modified=time.time(),
            )

            def install() -> None:
                self.store.install_object(assembly.path, info)
                self.store.remove_upload(upload.upload_id)

            await self.disk.run(install)
        return info

    async def list_uploads(self, call: OssCall, grant: StsGrant) -> web.StreamResponse:
        query = call.request.query
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        key_marker = query.get("key-marker", "")
        id_marker = query.get("upload-id-marker", "")
        max_uploads = int_param(query, "max-uploads", 1000, 1, 1000)
        # The STS grant only covers one object: list the uploads of that object only.
        candidates = sorted(
            (
                u
                for u in self.store.uploads.values()
                if u.bucket == call.bucket
                and u.key == grant.key
                and u.key.startswith(prefix)
                and not u.completing
            ),
            key=lambda u: (u.key, u.upload_id),
        )
        if key_marker:
            candidates = [
                u
                for u in candidates
                if u.key > key_marker
                or (u.key == key_marker and id_marker and u.upload_id > id_marker)
            ]
        uploads: list[MultipartUpload] = []
        prefixes: list[str] = []
        for upload in candidates:
            if len(uploads) + len(prefixes) >= max_uploads:
                break
            rest = upload.key[len(prefix) :]
            if delimiter and delimiter in rest:
                common = prefix + rest.split(delimiter, 1)[0] + delimiter
                if common not in prefixes:
                    prefixes.append(common)
                continue
            uploads.append(upload)
        truncated = len(uploads) + len(prefixes) < len(candidates) and bool(uploads)
        last = uploads[-1] if uploads else None
        nodes: list[xml.Node] = [
            ("Bucket", call.bucket),
            ("KeyMarker", encode_key(call, key_marker)),
            ("UploadIdMarker", id_marker),
            ("NextKeyMarker", encode_key(call, last.key) if last else ""),
            ("NextUploadIdMarker", last.upload_id if last else ""),
            ("Delimiter", delimiter),
            ("Prefix", encode_key(call, prefix)),
            ("MaxUploads", str(max_uploads)),
            ("IsTruncated", "true" if truncated else "false"),
        ]
        if query.get("encoding-type") == "url":
            nodes.append(("EncodingType", "url"))
        for upload in uploads:
            nodes.append(
                (
                    "Upload",
                    [
                        ("Key", encode_key(call, upload.key)),
                        ("UploadId", upload.upload_id),
                        ("StorageClass", "Standard"),
                        ("Initiated", iso_millis(upload.initiated)),
                    ],
                )
            )
        for common in prefixes:
            nodes.append(("CommonPrefixes", [("Prefix", encode_key(call, common))]))
        return xml_response(call, ("ListMultipartUploadsResult", nodes))
