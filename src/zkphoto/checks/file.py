"""File-level checks: readable, real format, extension, size, trailing bytes.

Rules: 教试中心函〔2021〕125号 附件 四「电子图像文件」(JPEG standard, 20–40 KB, extension JPG),
Chongqing's "文件不小于 50KB", Jiangsu's "大于30KB，小于100KB … 文件格式jpg".
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .registry import NotAssessable, RangeRule, Rule, Verdict, failed, passed, register


@register("file.readable")
def check_readable(ctx, rule: Rule) -> Verdict:
    """The file exists, is a regular non-empty file, and its pixels decode completely.

    Enforces the precondition of every other rule (a truncated or corrupt upload is rejected).
    """
    try:
        data = ctx.readable_bytes
    except NotAssessable as e:  # missing, a directory, empty, unreadable
        return failed(e.message.zh, e.message.en, {"file_bytes": len(ctx.data) if ctx.data is not None else None})
    try:
        im = ctx.decoded
    except NotAssessable as e:
        return failed(e.message.zh, e.message.en, {"file_bytes": len(data), "format": ctx.format})
    j = ctx.jpeg
    if j is not None and j.error:
        return failed(
            f"JPEG 结构不完整（{j.error}），请重新导出照片",
            f"the JPEG structure is incomplete ({j.error}); export the photo again",
            {"file_bytes": len(data), "jpeg_error": j.error},
        )
    w, h = im.size
    return passed(
        f"文件可完整解码（{w}×{h}）",
        f"the file decodes completely ({w}×{h})",
        {"file_bytes": len(data), "decoded": True},
    )


FORMAT_ADVICE = {
    "PNG": ("PNG", "PNG"),
    "GIF": ("GIF", "GIF"),
    "WEBP": ("WebP", "WebP"),
    "HEIC": ("HEIC（苹果手机默认格式）", "HEIC (the iPhone default)"),
}


class FormatRule(Rule):
    formats: list[Literal["JPEG", "PNG"]] = Field(default_factory=lambda: ["JPEG"])


@register("file.format", FormatRule)
def check_format(ctx, rule: FormatRule) -> Verdict:
    """The real format from the content's magic bytes, whatever the file name says.

    Enforces 四「应符合JPEG标准」: the content must be JPEG (a PNG renamed .jpg fails).
    """
    fmt = ctx.format
    ext = ctx.extension
    measured = {"format": fmt or "unknown", "extension": ext}
    expected = {"formats": list(rule.formats)}
    if fmt in rule.formats:
        return passed(f"文件内容为 {fmt} 格式", f"the content is {fmt}", measured, expected)
    zh_name, en_name = FORMAT_ADVICE.get(fmt or "", (fmt or "未知", fmt or "unknown"))
    want = "/".join(rule.formats)
    named = f"（文件名是 {ext}）" if ext else ""
    named_en = f" (although named {ext})" if ext else ""
    return failed(
        f"文件实际是 {zh_name} 格式{named}，不是 {want}；请用图片软件“另存为” JPG，不要只改扩展名",
        f"the file is really {en_name}{named_en}, not {want}; re-save it as JPG in an image editor "
        "instead of renaming it",
        measured,
        expected,
        fixable=fmt is not None,
    )


class ExtensionRule(Rule):
    extensions: list[str] = Field(default_factory=lambda: [".jpg"])
    case_sensitive: bool = False


@register("file.extension", ExtensionRule)
def check_extension(ctx, rule: ExtensionRule) -> Verdict:
    """The file name's extension. Enforces 四「文件扩展名应为JPG」."""
    ext = ctx.extension
    allowed = rule.extensions if rule.case_sensitive else [e.lower() for e in rule.extensions]
    have = ext if rule.case_sensitive else ext.lower()
    measured = {"extension": ext}
    expected = {"extensions": list(rule.extensions)}
    if ctx.name.startswith("<"):  # bytes or a stream: no name to judge
        return Verdict(
            "skip",
            _msg("没有文件名，跳过扩展名检查", "no file name given; extension not checked"),
            measured,
            expected,
        )
    if have in allowed:
        return passed(f"扩展名为 {ext}", f"the extension is {ext}", measured, expected)
    want = " / ".join(rule.extensions)
    return failed(
        f"扩展名为“{ext or '无'}”，应为 {want}；请另存为 JPG 文件",
        f"the extension is '{ext or 'none'}'; expected {want}. Save the photo as a .jpg file",
        measured,
        expected,
        fixable=True,
    )


def _msg(zh: str, en: str):
    from ..report import Message

    return Message(zh=zh, en=en)


class SizeRule(RangeRule):
    unit: Literal["KiB", "KB", "B"] = "KiB"


_UNIT_BYTES = {"KiB": 1024, "KB": 1000, "B": 1}


@register("file.size", SizeRule)
def check_size(ctx, rule: SizeRule) -> Verdict:
    """File size against the spec's window, in KiB (1024 bytes) unless the spec says otherwise.

    Enforces 四「压缩后文件大小一般在20KB至40KB」 (moe-2021), Chongqing's「不小于50KB」 and
    Jiangsu's「大于30KB，小于100KB」.
    """
    n = ctx.file_bytes
    unit = rule.unit
    value = n / _UNIT_BYTES[unit]
    measured = {"bytes": n, unit: round(value, 2)}
    expected = rule.expected()
    want = rule.describe()
    if rule.contains(value):
        return passed(
            f"文件大小 {value:.1f} {unit}，符合 {want}",
            f"file size {value:.1f} {unit}, within {want}",
            measured,
            expected,
        )
    too_small = rule.below(value)
    if too_small:
        zh_fix = "请以更高的 JPEG 质量重新保存（不要在文件尾部填充字节）"
        en_fix = "re-save at a higher JPEG quality (do not pad the file with bytes)"
    else:
        zh_fix = "请以较低的 JPEG 质量重新保存（质量不得低于 60）"
        en_fix = "re-save at a lower JPEG quality (but not below quality 60)"
    return failed(
        f"文件大小 {value:.1f} {unit}（{n} 字节），应为 {want}；{zh_fix}",
        f"file size is {value:.1f} {unit} ({n} bytes); expected {want}. {en_fix[0].upper()}{en_fix[1:]}",
        measured,
        expected,
        fixable=True,
    )


class TrailingRule(Rule):
    max_bytes: int = Field(0, ge=0, description="bytes allowed after the EOI marker")


@register("file.trailing_data", TrailingRule)
def check_trailing(ctx, rule: TrailingRule) -> Verdict:
    """Bytes after the JPEG end-of-image marker (padding used to inflate the KB size).

    Enforces 四「应符合JPEG标准」 and the honesty of 「文件大小」: padding is not image data.
    """
    if ctx.format != "JPEG":
        raise NotAssessable("不是 JPEG 文件，无法检查尾部数据", "not a JPEG file; trailing data not checked")
    j = ctx.jpeg
    if j.eoi_end is None:
        raise NotAssessable(
            "找不到 JPEG 结束标记（文件可能被截断）",
            "no JPEG end-of-image marker found (the file may be truncated)",
        )
    extra = ctx.trailing_bytes
    zeros = ctx.readable_bytes[j.eoi_end :].count(0) if extra else 0
    measured = {"trailing_bytes": extra, "zero_bytes": zeros, "eoi_offset": j.eoi_end}
    expected = {"max": rule.max_bytes, "unit": "B"}
    if extra <= rule.max_bytes:
        return passed("JPEG 结束标记后没有多余数据", "no data after the JPEG end-of-image marker", measured, expected)
    return failed(
        f"JPEG 结束标记后附加了 {extra} 字节（{extra / 1024:.1f} KiB）无效数据，疑似为凑文件大小而填充；"
        "请用正常方式重新保存照片，用 JPEG 质量调整文件大小",
        f"{extra} bytes ({extra / 1024:.1f} KiB) follow the JPEG end-of-image marker, padding that "
        "inflates the file size; re-save the photo normally and reach the size with the JPEG quality",
        measured,
        expected,
        fixable=True,
    )
