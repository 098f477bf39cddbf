#include "analyses/retrieval/retrieval_sample_codec.h"

#include "core/base/error.h"
#include "dist/byte_codec.h"

namespace headscope {

std::string encode_retrieval_samples(const std::vector<RetrievalSample>& samples) {
  ByteWriter w;
  w.put<uint64_t>(samples.size());
  for (const RetrievalSample& s : samples) {
    w.put(s.index);
    w.put(s.length);
    w.put(s.depth);
    w.put(s.needle);
    w.put_vector(s.prompt);
    w.put(s.answer_begin);
    w.put(s.answer_end);
    w.put_vector(s.generated);
    w.put_string(s.text);
    w.put(s.rouge);
    w.put<uint8_t>(s.accepted ? 1 : 0);
    w.put_tensor(s.argmax);
    w.put_tensor(s.score);
  }
  return w.bytes();
}

std::vector<RetrievalSample> decode_retrieval_samples(const std::string& bytes,
                                                      const std::string& what) {
  ByteReader r(bytes, what);
  const auto n = r.get<uint64_t>();
  std::vector<RetrievalSample> samples;
  for (uint64_t i = 0; i < n; ++i) {
    RetrievalSample s;
    s.index = r.get<int64_t>();
    s.length = r.get<int64_t>();
    s.depth = r.get<double>();
    s.needle = r.get<int64_t>();
    s.prompt = r.get_vector<int32_t>();
    s.answer_begin = r.get<int64_t>();
    s.answer_end = r.get<int64_t>();
    s.generated = r.get_vector<int32_t>();
    s.text = r.get_string();
    s.rouge = r.get<double>();
    s.accepted = r.get<uint8_t>() != 0;
    s.argmax = r.get_tensor();
    s.score = r.get_tensor();
    samples.push_back(std::move(s));
  }
  if (!r.done()) throw IoError(what + ": bytes left after the last sample");
  return samples;
}

}  // namespace headscope
