//! SVG charts drawn on the server: readable without JavaScript, styled by `tuesday.css`.
//! Each returns the geometry the templates draw; the numbers are escaped by askama like any text.

/// One horizontal bar of the funnel.
pub struct FunnelBar {
    pub label: &'static str,
    pub count: i64,
    /// Of the first stage.
    pub rate: String,
    /// Of the stage before.
    pub step: String,
    pub y: i64,
    pub width: i64,
}

pub const FUNNEL_WIDTH: i64 = 460;
const BAR_HEIGHT: i64 = 34;

pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        "–".to_owned()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// Bars for `stages` (label, count), the first one full width.
pub fn funnel(stages: &[(&'static str, i64)]) -> Vec<FunnelBar> {
    let top = stages.first().map_or(0, |s| s.1);
    let mut previous = top;
    stages
        .iter()
        .enumerate()
        .map(|(i, &(label, count))| {
            let width = if top > 0 {
                (count * FUNNEL_WIDTH / top).max(2)
            } else {
                2
            };
            let bar = FunnelBar {
                label,
                count,
                rate: percent(count, top),
                step: percent(count, previous),
                y: i as i64 * (BAR_HEIGHT + 8),
                width,
            };
            previous = count;
            bar
        })
        .collect()
}

/// Vertical bars for one series over labelled periods.
pub struct Column {
    pub label: String,
    pub x: i64,
    pub total_y: i64,
    pub total_h: i64,
    pub part_y: i64,
    pub part_h: i64,
    pub total: i64,
    pub part: i64,
}

pub const COLUMNS_HEIGHT: i64 = 160;

/// Columns of `(label, total, part)`: the total as a pale bar, the part (e.g. sent) inside it.
pub fn columns(points: &[(String, i64, i64)]) -> (Vec<Column>, i64) {
    let max = points.iter().map(|p| p.1.max(p.2)).max().unwrap_or(0).max(1);
    let step = 44;
    let columns = points
        .iter()
        .enumerate()
        .map(|(i, (label, total, part))| {
            let total_h = total * COLUMNS_HEIGHT / max;
            let part_h = part * COLUMNS_HEIGHT / max;
            Column {
                label: label.clone(),
                x: 30 + i as i64 * step,
                total_y: COLUMNS_HEIGHT - total_h + 10,
                total_h,
                part_y: COLUMNS_HEIGHT - part_h + 10,
                part_h,
                total: *total,
                part: *part,
            }
        })
        .collect();
    (columns, (40 + points.len() as i64 * step).max(520))
}

/// A line through `(label, value 0–1)` points, as an SVG `points` attribute.
pub fn line(values: &[f64], width: i64, height: i64) -> String {
    if values.is_empty() {
        return String::new();
    }
    let step = if values.len() > 1 {
        (width - 60) as f64 / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = 40.0 + i as f64 * step;
            let y = 10.0 + (1.0 - v.clamp(0.0, 1.0)) * (height - 30) as f64;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funnel_bars_scale_to_the_first_stage() {
        let bars = funnel(&[("Inbound", 200), ("Drafted", 150), ("Sent", 75), ("Converted", 0)]);
        assert_eq!(bars[0].width, FUNNEL_WIDTH);
        assert_eq!(bars[1].width, FUNNEL_WIDTH * 3 / 4);
        assert_eq!(bars[2].rate, "37.5%");
        assert_eq!(bars[2].step, "50.0%");
        assert_eq!(bars[3].width, 2, "an empty stage still shows a sliver");
        assert!(funnel(&[("Inbound", 0)])[0].rate == "–");
    }

    #[test]
    fn columns_and_lines_stay_inside_the_chart() {
        let (cols, width) = columns(&[("W1".into(), 10, 5), ("W2".into(), 20, 20)]);
        assert_eq!(cols[1].total_h, COLUMNS_HEIGHT);
        assert_eq!(cols[0].part_h, COLUMNS_HEIGHT / 4);
        assert!(width > cols[1].x);
        assert_eq!(line(&[1.0, 0.0], 260, 130), "40.0,10.0 240.0,110.0");
        assert_eq!(line(&[], 260, 130), "");
    }
}
