#ifndef C_ZLIB_H
#define C_ZLIB_H

// The system zlib, for what compress-nio does not expose: raw deflate blocks ending at a sync flush,
// preset dictionaries and crc32_combine (see ReleaseChannelStore's SegmentedGzip), and inflating from
// memory compress-nio's ByteBuffer API cannot read (a mapped file); and, for the client SDK, gzip bodies that
// must end with their trailer (compress-nio returns what it inflated from a member cut short).
#include <zlib.h>

/// `deflateInit2` is a macro (it passes the header's version and struct size), which Swift cannot call.
/// Raw deflate: negative window bits, no zlib or gzip wrapper.
static inline int release_chan_deflate_init_raw(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}

/// `inflateInit2` for a gzip stream (window bits 16 + 15: gzip wrapper, 32 KiB window).
static inline int release_chan_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}

#endif
