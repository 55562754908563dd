#pragma once
// Rotated class names under a QCustomPlot x axis. QCustomPlot leaves out a tick label that would
// cross the widget's edge, so the last class name of a long list vanished (found by a new user
// on the Evaluate page: "Ankle boot"). This reserves the room on the right instead.
#include <QStringList>

class QCustomPlot;

namespace tlab::ui {

/// Sets the x axis label rotation (45 degrees past `straightUpTo` labels) and makes the axis
/// rect's right margin wide enough for the last rotated label. Returns the margin in pixels.
int fitRotatedTickLabels(QCustomPlot* plot, const QStringList& labels, int straightUpTo = 5);

}  // namespace tlab::ui
