//! Search areas and distances as Redis's `geohash_helper.c`: the step (box size) estimated
//! from the radius, the centre box and its eight neighbours that cover a circle or a
//! rectangle (with the same "decrease step" and "useless box" decisions), and haversine
//! distances on a sphere of Redis's radius. Same formulas in the same order, so the boxes
//! searched and the distances printed equal Redis's.

use super::geohash::{self, Area, HashBits, Neighbors, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};

const D_R: f64 = std::f64::consts::PI / 180.0;
/// Earth's quadratic mean radius for WGS-84.
pub const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;
const MERCATOR_MAX: f64 = 20_037_726.37;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A search area: a circle of `radius` or a `width` × `height` box, in units of `conversion`
/// meters, centred on `xy` (longitude, latitude).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub kind: ShapeKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShapeKind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

/// `geohashEstimateStepsByRadius`.
fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// `geohashBoundingBox`: [min lon, min lat, max lon, max lat].
fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [longitude, latitude] = shape.xy;
    let (height, width) = match shape.kind {
        ShapeKind::Circle { radius } => (shape.conversion * radius, shape.conversion * radius),
        ShapeKind::Box { width, height } => (shape.conversion * (height / 2.0), shape.conversion * (width / 2.0)),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
    let delta = if latitude < 0.0 { long_delta_bottom } else { long_delta_top };
    [longitude - delta, latitude - lat_delta, longitude + delta, latitude + lat_delta]
}

/// The boxes to scan: the centre one and its (possibly zeroed) neighbours.
pub struct SearchBoxes {
    pub hash: HashBits,
    pub neighbors: Neighbors,
}

impl SearchBoxes {
    /// In the order Redis scans them.
    pub fn in_order(&self) -> [HashBits; 9] {
        let n = &self.neighbors;
        [self.hash, n.north, n.south, n.east, n.west, n.north_east, n.north_west, n.south_east, n.south_west]
    }
}

fn encode_at(xy: [f64; 2], steps: u8) -> (HashBits, Neighbors, Area) {
    let hash = geohash::encode_wgs84(xy[0], xy[1], steps).unwrap_or(HashBits { bits: 0, step: steps });
    (hash, geohash::neighbors(hash), geohash::decode(hash))
}

/// `geohashCalculateAreasByShapeWGS84`.
pub fn areas_by_shape(shape: &Shape) -> SearchBoxes {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let radius_meters = match shape.kind {
        ShapeKind::Circle { radius } => radius,
        ShapeKind::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, shape.xy[1]);
    let (mut hash, mut n, mut area) = encode_at(shape.xy, steps);
    let decrease = geohash::decode(n.north).latitude.max < max_lat
        || geohash::decode(n.south).latitude.min > min_lat
        || geohash::decode(n.east).longitude.max < max_lon
        || geohash::decode(n.west).longitude.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        (hash, n, area) = encode_at(shape.xy, steps);
    }
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            (n.south, n.south_west, n.south_east) = (zero, zero, zero);
        }
        if area.latitude.max > max_lat {
            (n.north, n.north_east, n.north_west) = (zero, zero, zero);
        }
        if area.longitude.min < min_lon {
            (n.west, n.south_west, n.north_west) = (zero, zero, zero);
        }
        if area.longitude.max > max_lon {
            (n.east, n.south_east, n.north_east) = (zero, zero, zero);
        }
    }
    SearchBoxes { hash, neighbors: n }
}

/// Distance between two latitudes on a meridian.
fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// Haversine great-circle distance in meters.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// Is `xy` inside `shape`? Its distance from the centre if so (`geoWithinShape`).
pub fn within(shape: &Shape, xy: [f64; 2]) -> Option<f64> {
    let [x1, y1] = shape.xy;
    let [x2, y2] = xy;
    match shape.kind {
        ShapeKind::Circle { radius } => {
            let d = distance(x1, y1, x2, y2);
            (d <= radius * shape.conversion).then_some(d)
        }
        ShapeKind::Box { width, height } => {
            let (width_m, height_m) = (width * shape.conversion, height * shape.conversion);
            if lat_distance(y2, y1) > height_m / 2.0 || distance(x2, y2, x1, y2) > width_m / 2.0 {
                return None;
            }
            Some(distance(x1, y1, x2, y2))
        }
    }
}

/// Is a longitude / latitude pair inside the range GEOADD accepts?
pub fn valid_long_lat(xy: [f64; 2]) -> bool {
    (LONG_MIN..=LONG_MAX).contains(&xy[0]) && (LAT_MIN..=LAT_MAX).contains(&xy[1])
}
