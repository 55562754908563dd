// Writes the part of the hostile-file corpus that Python's standard library cannot: HDF5 files
// that declare far more than they hold, and a large legal JPEG (decoded within the budget at a
// reduced scale). Usage: tlab_make_native_corpus OUT_DIR
// Appends its cases to OUT_DIR/cases.tsv (same columns as make_corpus.py).
#include <hdf5.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

// A chunked dataset of `dims` that is never written: HDF5 stores no chunk, so the file stays tiny.
void declare(hid_t file, const char* name, hid_t type, std::vector<hsize_t> dims) {
  std::vector<hsize_t> chunk(dims.size(), 1);
  const hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  const hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(plist, int(chunk.size()), chunk.data());
  const hid_t d = H5Dcreate2(file, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT);
  H5Dclose(d);
  H5Pclose(plist);
  H5Sclose(space);
}

void write(hid_t file, const char* name, const std::vector<int64_t>& values) {
  const hsize_t n = values.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t d =
      H5Dcreate2(file, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(d);
  H5Sclose(space);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tlab_make_native_corpus OUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::ofstream cases(dir + "/cases.tsv", std::ios::app);
  auto create = [&](const std::string& name) {
    cases << name << "\tdataset inspect --no-verify {F}\trefuse\n";
    return H5Fcreate((dir + "/" + name).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  };
  hid_t f = create("h5-2g-images.h5");  // 2^31 images and labels, a few KB on disk
  declare(f, "images", H5T_STD_U8LE, {hsize_t(1) << 31, 1, 1});
  declare(f, "labels", H5T_STD_I64LE, {hsize_t(1) << 31});
  H5Fclose(f);
  f = create("h5-label-2e36.h5");  // one class name per value up to 2^36
  declare(f, "images", H5T_STD_U8LE, {2, 1, 1});
  write(f, "labels", {0, int64_t(1) << 36});
  H5Fclose(f);
  f = create("h5-huge-image.h5");  // one 16384 x 16384 x 3 image (805 MB) from nothing
  declare(f, "images", H5T_STD_U8LE, {1, 16384, 16384, 3});
  write(f, "labels", {0});
  H5Fclose(f);
  // A legal 24-megapixel photo-sized JPEG: read, at the reduction that fits the budget.
  cv::Mat photo(4000, 6000, CV_8UC3);
  cv::randu(photo, 0, 255);
  cv::imwrite(dir + "/jpeg-24mp.jpg", photo, {cv::IMWRITE_JPEG_QUALITY, 30});
  cases << "jpeg-24mp.jpg\tinspect --as image {F}\tread\n";
  std::cout << "tlab_make_native_corpus: 4 cases in " << dir << "\n";
  return 0;
}
