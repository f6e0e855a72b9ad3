"""Small test photos from scikit-image's bundled samples, written as PNG files."""
import cv2


def write_photos(folder, names=('coffee', 'chelsea'), size=(64, 48)):
    """Write each named scikit-image sample, area-resized to ``size`` (width, height), as ``folder/<name>.png``."""
    from skimage import data as skdata
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        img = cv2.resize(getattr(skdata, name)(), size, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f'{name}.png'), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return folder
