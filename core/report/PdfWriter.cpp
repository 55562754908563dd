#include "core/report/PdfWriter.h"

#include <cstdio>
#include <sstream>

#include "core/Errors.h"

namespace tlab::core {
namespace {

// Advance widths (1/1000 em) of ASCII 32..126 from Adobe's Helvetica and Helvetica-Bold AFM
// files; any other character is taken as 556 (the width of a digit).
constexpr short kHelvetica[95] = {
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333,  278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667,  611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278,  556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500,  500, 334, 260, 334, 584};
constexpr short kHelveticaBold[95] = {
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584};

// UTF-8 to the single-byte WinAnsi (Latin-1 range) the standard fonts show; a few common
// punctuation marks are spelled in ASCII, anything else (and broken UTF-8) becomes '?'.
std::string toLatin1(const std::string& utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    uint32_t cp = 0;
    size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F, len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F, len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07, len = 4;
    } else {
      out += '?', ++i;
      continue;
    }
    bool ok = i + len <= utf8.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(utf8[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out += '?', ++i;
      continue;
    }
    i += len;
    if (cp == 0x2013 || cp == 0x2014 || cp == 0x2212)
      out += '-';
    else if (cp == 0x2018 || cp == 0x2019)
      out += '\'';
    else if (cp == 0x201C || cp == 0x201D)
      out += '"';
    else if (cp == 0x2026)
      out += "...";
    else if (cp == 0x2192)
      out += "->";
    else if (cp == '\t')
      out += ' ';
    else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp > 0xFF)
      out += '?';
    else
      out += char(cp);
  }
  return out;
}

double latin1Width(const std::string& latin1, double size, bool bold) {
  const short* table = bold ? kHelveticaBold : kHelvetica;
  double units = 0;
  for (char ch : latin1) {
    const auto c = static_cast<unsigned char>(ch);
    units += (c >= 32 && c <= 126) ? table[c - 32] : 556;
  }
  return units * size / 1000.0;
}

std::string literal(const std::string& latin1) {
  std::string out = "(";
  for (char ch : latin1) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '(' || ch == ')' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 32 || c > 126) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + ")";
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string color(PdfColor c, bool stroke) {
  return num(c.r) + " " + num(c.g) + " " + num(c.b) + (stroke ? " RG\n" : " rg\n");
}

// The frame size of a JPEG: walks the marker segments up to the first start-of-frame.
bool jpegSize(const std::string& b, int& w, int& h, int& components) {
  if (b.size() < 4 || uint8_t(b[0]) != 0xFF || uint8_t(b[1]) != 0xD8) return false;
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (uint8_t(b[i]) != 0xFF) return false;
    const uint8_t marker = uint8_t(b[i + 1]);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    const size_t len = size_t(uint8_t(b[i + 2])) << 8 | uint8_t(b[i + 3]);
    if (len < 2 || i + 2 + len > b.size()) return false;
    if (marker >= 0xC0 && marker <= 0xC2) {  // baseline, extended or progressive frame
      if (len < 8) return false;
      h = int(uint8_t(b[i + 5])) << 8 | uint8_t(b[i + 6]);
      w = int(uint8_t(b[i + 7])) << 8 | uint8_t(b[i + 8]);
      components = uint8_t(b[i + 9]);
      return w > 0 && h > 0 && (components == 1 || components == 3);
    }
    i += 2 + len;
  }
  return false;
}

}  // namespace

double pdfTextWidth(const std::string& text, double size, bool bold) {
  return latin1Width(toLatin1(text), size, bold);
}

std::vector<std::string> pdfWrapText(const std::string& text, double size, double width,
                                     bool bold) {
  std::vector<std::string> lines;
  std::istringstream words(text);
  std::string line;
  for (std::string word; words >> word;) {
    const std::string candidate = line.empty() ? word : line + " " + word;
    if (pdfTextWidth(candidate, size, bold) <= width || line.empty()) {
      line = candidate;
    } else {
      lines.push_back(line);
      line = word;
    }
    // A single word wider than the line (a long path) is cut at characters.
    while (pdfTextWidth(line, size, bold) > width && line.size() > 1) {
      size_t cut = line.size() - 1;
      while (cut > 1 && pdfTextWidth(line.substr(0, cut), size, bold) > width) --cut;
      while (cut > 1 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
      lines.push_back(line.substr(0, cut));
      line = line.substr(cut);
    }
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

std::string& PdfDocument::page() {
  if (pages_.empty()) newPage();
  return pages_.back();
}

void PdfDocument::newPage() { pages_.emplace_back(); }

void PdfDocument::text(double x, double y, const std::string& utf8, double size, bool bold,
                       PdfColor c) {
  page() += "BT\n" + color(c, false) + (bold ? "/F2 " : "/F1 ") + num(size) + " Tf\n" + num(x) +
            " " + num(kA4Height - y) + " Td\n" + literal(toLatin1(utf8)) + " Tj\nET\n";
}

void PdfDocument::line(double x1, double y1, double x2, double y2, double width, PdfColor c) {
  page() += num(width) + " w\n" + color(c, true) + num(x1) + " " + num(kA4Height - y1) + " m " +
            num(x2) + " " + num(kA4Height - y2) + " l S\n";
}

void PdfDocument::polyline(const std::vector<std::pair<double, double>>& points, double width,
                           PdfColor c) {
  if (points.size() < 2) return;
  std::string& p = page();
  p += num(width) + " w 1 J 1 j\n" + color(c, true);
  for (size_t i = 0; i < points.size(); ++i)
    p += num(points[i].first) + " " + num(kA4Height - points[i].second) + (i ? " l\n" : " m\n");
  p += "S\n";
}

void PdfDocument::fillRect(double x, double y, double w, double h, PdfColor c) {
  page() += color(c, false) + num(x) + " " + num(kA4Height - y - h) + " " + num(w) + " " + num(h) +
            " re f\n";
}

void PdfDocument::strokeRect(double x, double y, double w, double h, double width, PdfColor c) {
  page() += num(width) + " w\n" + color(c, true) + num(x) + " " + num(kA4Height - y - h) + " " +
            num(w) + " " + num(h) + " re S\n";
}

int PdfDocument::addJpeg(const std::string& jpeg) {
  Image img;
  if (!jpegSize(jpeg, img.width, img.height, img.components))
    throw InvalidArgument("not a JPEG image with a readable frame size");
  img.bytes = jpeg;
  images_.push_back(std::move(img));
  return int(images_.size()) - 1;
}

std::pair<int, int> PdfDocument::imageSize(int id) const {
  const Image& img = images_.at(size_t(id));
  return {img.width, img.height};
}

void PdfDocument::image(int id, double x, double y, double w, double h) {
  (void)images_.at(size_t(id));
  page() += "q " + num(w) + " 0 0 " + num(h) + " " + num(x) + " " + num(kA4Height - y - h) +
            " cm /Im" + std::to_string(id) + " Do Q\n";
}

std::string PdfDocument::finish(const std::string& title) const {
  std::vector<std::string> objects;  // object i+1
  const size_t firstImage = 6, firstPage = firstImage + images_.size();
  const auto ref = [](size_t id) { return std::to_string(id) + " 0 R"; };
  const size_t pageCount = std::max<size_t>(pages_.size(), 1);
  std::string kids;
  for (size_t p = 0; p < pageCount; ++p) kids += ref(firstPage + 2 * p) + " ";
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pageCount) +
                    " >>");
  objects.push_back(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  objects.push_back(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>");
  objects.push_back("<< /Title " + literal(toLatin1(title)) + " /Producer (TransferLab) >>");
  std::string xobjects;
  for (size_t i = 0; i < images_.size(); ++i) {
    const Image& img = images_[i];
    objects.push_back("<< /Type /XObject /Subtype /Image /Width " + std::to_string(img.width) +
                      " /Height " + std::to_string(img.height) + " /ColorSpace " +
                      (img.components == 1 ? "/DeviceGray" : "/DeviceRGB") +
                      " /BitsPerComponent 8 /Filter /DCTDecode /Length " +
                      std::to_string(img.bytes.size()) + " >>\nstream\n" + img.bytes +
                      "\nendstream");
    xobjects += "/Im" + std::to_string(i) + " " + ref(firstImage + i) + " ";
  }
  for (size_t p = 0; p < pageCount; ++p) {
    const std::string content = p < pages_.size() ? pages_[p] : std::string();
    objects.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + num(kA4Width) + " " +
                      num(kA4Height) +
                      "] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> /XObject << " + xobjects +
                      ">> >> /Contents " + ref(firstPage + 2 * p + 1) + " >>");
    objects.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                      "\nendstream");
  }
  std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", off);
    out += buf;
  }
  out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
         " /Root 1 0 R /Info 5 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

namespace {

std::string latin1ToUtf8(const std::string& latin1) {
  std::string out;
  for (char ch : latin1) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += char(0xC0 | (c >> 6));
      out += char(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// The literal strings shown with Tj in one content stream.
void shownStrings(const std::string& content, std::vector<std::string>& out) {
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] != '(') continue;
    std::string s;
    size_t j = i + 1;
    for (; j < content.size() && content[j] != ')'; ++j) {
      if (content[j] != '\\' || j + 1 >= content.size()) {
        s += content[j];
        continue;
      }
      const char e = content[++j];
      if (e >= '0' && e <= '7' && j + 2 < content.size()) {
        s += char(std::stoi(content.substr(j, 3), nullptr, 8));
        j += 2;
      } else {
        s += e;
      }
    }
    if (content.compare(j, 5, ") Tj\n") == 0) out.push_back(latin1ToUtf8(s));
    i = j;
  }
}

PdfCheck checkPdfStructure(const std::string& b, const std::string& source) {
  const auto fail = [&](const std::string& what) { throw FormatError(source, what); };
  if (b.rfind("%PDF-1.", 0) != 0) fail("does not start with a PDF header");
  const size_t sx = b.rfind("startxref");
  if (sx == std::string::npos || b.find("%%EOF", sx) == std::string::npos)
    fail("no startxref / %%EOF at the end (truncated?)");
  size_t xref = 0;
  try {
    xref = std::stoul(b.substr(sx + 9, 24));
  } catch (const std::exception&) {
    fail("startxref is not a number");
  }
  if (xref >= b.size() || b.compare(xref, 5, "xref\n") != 0)
    fail("startxref does not point at the cross-reference table");
  std::istringstream table(b.substr(xref + 5, sx - xref - 5));
  size_t first = 1, count = 0;
  table >> first >> count;
  if (first != 0 || count < 2) fail("cross-reference table has no objects");
  PdfCheck check;
  std::string off, gen, kind;
  table >> off >> gen >> kind;  // the free head entry
  for (size_t id = 1; id < count; ++id) {
    if (!(table >> off >> gen >> kind) || kind != "n")
      fail("cross-reference entry " + std::to_string(id) + " is missing or free");
    const size_t at = std::stoul(off);
    const std::string head = std::to_string(id) + " 0 obj\n";
    if (at >= b.size() || b.compare(at, head.size(), head) != 0)
      fail("object " + std::to_string(id) + " is not at its cross-reference offset");
    const size_t end = b.find("\nendobj\n", at);
    if (end == std::string::npos) fail("object " + std::to_string(id) + " has no endobj");
    const std::string body = b.substr(at + head.size(), end - at - head.size());
    if (body.rfind("<< /Type /Page /", 0) == 0) ++check.pages;
    if (body.find("/Subtype /Image") != std::string::npos) ++check.images;
    const size_t lengthAt = body.find("/Length ");
    const size_t streamAt = body.find(">>\nstream\n");
    if (lengthAt != std::string::npos && streamAt != std::string::npos) {
      const size_t length = std::stoul(body.substr(lengthAt + 8, 20));
      const size_t data = streamAt + 10;
      if (data + length + 10 != body.size() || body.compare(data + length, 10, "\nendstream") != 0)
        fail("object " + std::to_string(id) + "'s stream is not /Length " + std::to_string(length) +
             " bytes long");
      if (body.find("/Subtype /Image") == std::string::npos)
        shownStrings(body.substr(data, length), check.strings);
    }
  }
  if (b.find("/Root 1 0 R", sx - (sx > 200 ? 200 : sx)) == std::string::npos)
    fail("the trailer names no document catalog");
  if (check.pages == 0) fail("has no pages");
  return check;
}

}  // namespace

PdfCheck checkPdf(const std::string& b, const std::string& source) {
  try {
    return checkPdfStructure(b, source);
  } catch (const std::logic_error& e) {  // std::stoul on a number that is not one
    throw FormatError(source, std::string("unreadable number in the file structure: ") + e.what());
  }
}

}  // namespace tlab::core
