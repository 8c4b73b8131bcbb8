//! Redis's geohash (`geohash.c`): longitude and latitude scaled to `step` bits each and
//! interleaved (latitude in the even bits, longitude in the odd ones) into one integer; 26
//! steps give the 52-bit sorted-set score of a GEO member. Latitudes are limited to the
//! Web Mercator range ±85.05112878. Same operations, same rounding, so scores and decoded
//! coordinates equal Redis's bit for bit. No keys, no replies.

pub const STEP_MAX: u8 = 26;
pub const LAT_MIN: f64 = -85.051_128_78;
pub const LAT_MAX: f64 = 85.051_128_78;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;

/// A geohash of `step` bits per coordinate; all zero marks a skipped neighbour box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    pub fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash left-aligned to 52 bits (the score of the box's first point).
    pub fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

pub const WGS84_LONG: Range = Range { min: LONG_MIN, max: LONG_MAX };
pub const WGS84_LAT: Range = Range { min: LAT_MIN, max: LAT_MAX };

/// The box a hash stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Spread the low 32 bits of `x` and `y` into the even and odd bits of the result.
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555_5555_5555_5555,
        0x3333_3333_3333_3333,
        0x0F0F_0F0F_0F0F_0F0F,
        0x00FF_00FF_00FF_00FF,
        0x0000_FFFF_0000_FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (u64::from(xlo), u64::from(ylo));
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// Undo [`interleave64`]: even bits in the low half, odd bits in the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555_5555_5555_5555,
        0x3333_3333_3333_3333,
        0x0F0F_0F0F_0F0F_0F0F,
        0x00FF_00FF_00FF_00FF,
        0x0000_FFFF_0000_FFFF,
        0x0000_0000_FFFF_FFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: `None` outside the WGS84 / given ranges or for a bad step.
pub fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min || longitude > long_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    Some(HashBits { bits: interleave64(lat_offset as u32, long_offset as u32), step })
}

/// `geohashEncodeWGS84`.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// `geohashDecode` over the WGS84 ranges.
pub fn decode(hash: HashBits) -> Area {
    let step_scale = (1u64 << hash.step) as f64;
    let sep = deinterleave64(hash.bits);
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let (lat, long) = (WGS84_LAT, WGS84_LONG);
    let lat_scale = lat.max - lat.min;
    let long_scale = long.max - long.min;
    let edge = |min: f64, i: u32, scale: f64| min + (f64::from(i) * 1.0 / step_scale) * scale;
    Area {
        latitude: Range { min: edge(lat.min, ilato, lat_scale), max: edge(lat.min, ilato.wrapping_add(1), lat_scale) },
        longitude: Range {
            min: edge(long.min, ilono, long_scale),
            max: edge(long.min, ilono.wrapping_add(1), long_scale),
        },
    }
}

/// The centre of a hash's box, clamped to the WGS84 ranges: `[longitude, latitude]`.
pub fn decode_to_long_lat(hash: HashBits) -> [f64; 2] {
    let area = decode(hash);
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// C's `(uint64_t)` of a double as x86-64 compilers emit it (scores outside 0..2^64 wrap the
/// way Redis's do instead of saturating).
fn c_double_to_u64(x: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    let cvtt = |v: f64| if v.is_nan() || !(-TWO63..TWO63).contains(&v) { i64::MIN } else { v as i64 };
    if x < TWO63 {
        cvtt(x) as u64
    } else {
        (cvtt(x - TWO63) as u64) ^ (1 << 63)
    }
}

/// `decodeGeohash`: the position a sorted-set score stands for.
pub fn decode_score(score: f64) -> [f64; 2] {
    decode_to_long_lat(HashBits { bits: c_double_to_u64(score), step: STEP_MAX })
}

/// The 52-bit score of a position (already range checked).
pub fn score_of(longitude: f64, latitude: f64) -> u64 {
    encode_wgs84(longitude, latitude, STEP_MAX).unwrap_or_default().align52()
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    hash.bits = x | y;
}

/// The eight boxes around a hash.
#[derive(Debug, Clone, Copy, Default)]
pub struct Neighbors {
    pub north: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub south: HashBits,
    pub north_east: HashBits,
    pub south_east: HashBits,
    pub north_west: HashBits,
    pub south_west: HashBits,
}

/// `geohashNeighbors`.
pub fn neighbors(hash: HashBits) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trips() {
        for (a, b) in [(0u32, 0u32), (1, 0), (0, 1), (0x3ff_ffff, 0x123_4567), (u32::MAX, 7)] {
            let sep = deinterleave64(interleave64(a, b));
            assert_eq!((sep as u32, (sep >> 32) as u32), (a, b));
        }
    }

    #[test]
    fn conversions_like_x86() {
        assert_eq!(c_double_to_u64(3.9), 3);
        assert_eq!(c_double_to_u64(-1.5), u64::MAX);
        assert_eq!(c_double_to_u64(1e19), 10_000_000_000_000_000_000);
        assert_eq!(c_double_to_u64(1e20), 0);
        assert_eq!(c_double_to_u64(f64::NEG_INFINITY), 1 << 63);
    }
}
