#pragma once
// A small PDF 1.4 writer for reports, so the CLI can write PDF without Qt: pages of text in the
// standard Helvetica fonts (WinAnsi; characters outside Latin-1 print as '?'), lines, filled
// rectangles, polylines and JPEG images (embedded as they are, DCTDecode). Coordinates are
// points from the page's top-left corner (y grows downwards), converted to PDF's own.
#include <cstdint>
#include <string>
#include <vector>

namespace tlab::core {

struct PdfColor {
  double r = 0, g = 0, b = 0;  ///< 0..1
};

/// Width in points of `text` (UTF-8) in Helvetica (or Helvetica-Bold) at `size`.
double pdfTextWidth(const std::string& text, double size, bool bold = false);
/// `text` (UTF-8) broken into lines no wider than `width` points (at spaces where possible).
std::vector<std::string> pdfWrapText(const std::string& text, double size, double width,
                                     bool bold = false);

class PdfDocument {
 public:
  static constexpr double kA4Width = 595.28, kA4Height = 841.89;

  /// Starts a new page; drawing calls go to the newest page.
  void newPage();
  size_t pageCount() const { return pages_.size(); }

  void text(double x, double y, const std::string& utf8, double size, bool bold = false,
            PdfColor color = {});
  void line(double x1, double y1, double x2, double y2, double width, PdfColor color);
  void polyline(const std::vector<std::pair<double, double>>& points, double width, PdfColor color);
  void fillRect(double x, double y, double w, double h, PdfColor color);
  void strokeRect(double x, double y, double w, double h, double width, PdfColor color);
  /// Registers a baseline JPEG (`jpeg` as its file bytes); returns its id for image().
  /// Throws InvalidArgument when the bytes are not a JPEG whose size can be read.
  int addJpeg(const std::string& jpeg);
  void image(int id, double x, double y, double w, double h);
  /// Pixel size of a registered image.
  std::pair<int, int> imageSize(int id) const;

  /// The whole file.
  std::string finish(const std::string& title) const;

 private:
  struct Image {
    std::string bytes;
    int width = 0, height = 0, components = 3;
  };
  std::string& page();
  std::vector<std::string> pages_;  ///< content streams
  std::vector<Image> images_;
};

/// What a structural read of a PDF found (the check after writing one).
struct PdfCheck {
  int pages = 0;
  int images = 0;
  std::vector<std::string> strings;  ///< every literal string shown with Tj, decoded
};
/// Reads back a file this writer made: header, cross-reference table (every offset must point
/// at its object), trailer, page tree and each page's text. Throws FormatError naming `source`.
PdfCheck checkPdf(const std::string& bytes, const std::string& source);

}  // namespace tlab::core
