"""convlens.report: curves, confusion matrices and image galleries (matplotlib, Agg, atomic PNGs)."""

from convlens.report.confusion import confusion_matrix, plot_confusion, write_confusion_csv
from convlens.report.curves import plot_curves, plot_loss_comparison, smooth_curve
from convlens.report.gallery import plot_gallery, top_losses

__all__ = [
    "confusion_matrix",
    "plot_confusion",
    "plot_curves",
    "plot_gallery",
    "plot_loss_comparison",
    "smooth_curve",
    "top_losses",
    "write_confusion_csv",
]
