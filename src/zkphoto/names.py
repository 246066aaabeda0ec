"""Short human names for check ids and statuses, in Chinese and English."""

from __future__ import annotations

CHECK_NAMES: dict[str, tuple[str, str]] = {
    "file.readable": ("文件可读", "file readable"),
    "file.format": ("文件格式", "file format"),
    "file.extension": ("扩展名", "extension"),
    "file.size": ("文件大小", "file size"),
    "file.trailing_data": ("尾部填充", "trailing data"),
    "image.dimensions": ("像素尺寸", "pixel size"),
    "image.aspect_ratio": ("高宽比", "aspect ratio"),
    "image.dpi": ("分辨率", "resolution (dpi)"),
    "image.color_mode": ("颜色模式", "colour mode"),
    "image.colorful": ("彩色照片", "colour photo"),
    "image.orientation": ("旋转/镜像", "orientation"),
    "jpeg.quality": ("压缩质量", "JPEG quality"),
    "face.count": ("人脸数量", "face count"),
    "face.hair_top": ("头顶位置", "top of head"),
    "face.eye_line": ("眼睛位置", "eye line"),
    "face.width": ("脸部宽度", "face width"),
    "face.centered": ("水平居中", "centring"),
    "face.pose": ("头部姿态", "head pose"),
    "face.eyes_open": ("双眼睁开", "eyes open"),
    "face.gaze": ("平视前方", "gaze"),
    "face.mouth_closed": ("嘴唇闭合", "mouth closed"),
    "body.shoulders_level": ("肩膀平衡", "shoulders level"),
    "composition.top_margin": ("顶部留白", "top margin"),
    "composition.head_height": ("头部比例", "head height"),
    "composition.side_margins": ("左右留白", "side margins"),
    "background.color": ("背景颜色", "background colour"),
    "background.uniformity": ("背景均匀", "background uniformity"),
    "background.shadow": ("背景阴影", "background shadow"),
    "clothing.contrast": ("衣着区分", "clothing contrast"),
    "image.sharpness": ("清晰度", "sharpness"),
    "lighting.exposure": ("曝光", "exposure"),
    "lighting.face_balance": ("脸部光照均匀", "face lighting balance"),
    "face.red_eye": ("红眼", "red-eye"),
    "image.border": ("边框", "border"),
    "glasses.glare": ("眼镜反光", "glasses glare"),
    "glasses.tinted": ("有色眼镜", "tinted glasses"),
    "head.covering": ("头部覆盖物", "head covering"),
    "accessories.earrings": ("耳饰", "earrings"),
    "hair.over_eyes": ("头发遮挡", "hair over eyes"),
}

STATUS_NAMES: dict[str, tuple[str, str]] = {
    "pass": ("通过", "pass"),
    "fail": ("不通过", "FAIL"),
    "warn": ("警告", "warn"),
    "skip": ("跳过", "skip"),
    "error": ("无法评估", "error"),
}


def check_name(check_id: str, lang: str) -> str:
    """The human name of ``check_id`` in ``lang``; the id itself when unknown."""
    zh, en = CHECK_NAMES.get(check_id, (check_id, check_id))
    return en if lang == "en" else zh


def status_name(status: str, lang: str) -> str:
    """The human name of a status value in ``lang``."""
    zh, en = STATUS_NAMES.get(status, (status, status))
    return en if lang == "en" else zh
