//! One row of a record batch as [`Cells`]: each used column's value written
//! as text into one buffer reused from row to row.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Decimal32Type, Decimal64Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};

use super::text;
use crate::data::csv::Cells;

/// Whether [`RowCells`] can write values of `data_type`.
pub(super) fn readable(data_type: &DataType) -> bool {
    use DataType as T;
    matches!(
        data_type,
        T::Utf8
            | T::LargeUtf8
            | T::Utf8View
            | T::Int8
            | T::Int16
            | T::Int32
            | T::Int64
            | T::UInt8
            | T::UInt16
            | T::UInt32
            | T::UInt64
            | T::Float32
            | T::Float64
            | T::Decimal32(..)
            | T::Decimal64(..)
            | T::Decimal128(..)
            | T::Timestamp(..)
            | T::Date32
            | T::Date64
    )
}

/// Whether cells of `data_type` are text as written (so `--date-format` applies).
pub(super) fn is_text(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The cells of the current row: `fields` of them, the used ones filled.
pub(super) struct RowCells {
    /// The columns written, ascending (the batch's columns, in this order).
    used: Vec<usize>,
    buf: Vec<u8>,
    /// Where each column's text is in `buf` (empty for unused columns).
    spans: Vec<(usize, usize)>,
}

impl RowCells {
    /// Cells for rows of `fields` columns, of which `used` (ascending) are read.
    pub(super) fn new(fields: usize, used: Vec<usize>) -> RowCells {
        RowCells { used, buf: Vec::with_capacity(128), spans: vec![(0, 0); fields] }
    }

    /// Writes row `row` of `columns` (the used columns, in `used` order).
    /// A null is an empty cell.
    pub(super) fn fill(&mut self, columns: &[ArrayRef], row: usize) {
        self.buf.clear();
        for (array, &index) in columns.iter().zip(&self.used) {
            let start = self.buf.len();
            write_value(array.as_ref(), row, &mut self.buf);
            self.spans[index] = (start, self.buf.len());
        }
    }
}

impl Cells for RowCells {
    fn count(&self) -> usize {
        self.spans.len()
    }

    fn cell(&self, i: usize) -> &[u8] {
        match self.spans.get(i) {
            Some(&(start, end)) => &self.buf[start..end],
            None => &[],
        }
    }
}

/// Writes `array[row]` as text (nothing for a null, or a type that
/// [`readable`] refuses, which the schema check has already turned away).
fn write_value(array: &dyn Array, row: usize, out: &mut Vec<u8>) {
    if array.is_null(row) {
        return;
    }
    use DataType as T;
    match array.data_type() {
        T::Utf8 => out.extend_from_slice(array.as_string::<i32>().value(row).as_bytes()),
        T::LargeUtf8 => out.extend_from_slice(array.as_string::<i64>().value(row).as_bytes()),
        T::Utf8View => out.extend_from_slice(array.as_string_view().value(row).as_bytes()),
        T::Int8 => text::integer(array.as_primitive::<Int8Type>().value(row), out),
        T::Int16 => text::integer(array.as_primitive::<Int16Type>().value(row), out),
        T::Int32 => text::integer(array.as_primitive::<Int32Type>().value(row), out),
        T::Int64 => text::integer(array.as_primitive::<Int64Type>().value(row), out),
        T::UInt8 => text::integer(array.as_primitive::<UInt8Type>().value(row), out),
        T::UInt16 => text::integer(array.as_primitive::<UInt16Type>().value(row), out),
        T::UInt32 => text::integer(array.as_primitive::<UInt32Type>().value(row), out),
        T::UInt64 => text::integer(array.as_primitive::<UInt64Type>().value(row), out),
        T::Float32 => text::float32(array.as_primitive::<Float32Type>().value(row), out),
        T::Float64 => text::float(array.as_primitive::<Float64Type>().value(row), out),
        T::Decimal32(_, scale) => text::decimal(array.as_primitive::<Decimal32Type>().value(row).into(), *scale, out),
        T::Decimal64(_, scale) => text::decimal(array.as_primitive::<Decimal64Type>().value(row).into(), *scale, out),
        T::Decimal128(_, scale) => text::decimal(array.as_primitive::<Decimal128Type>().value(row), *scale, out),
        T::Timestamp(unit, _) => {
            let value = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(row),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
            };
            // With a time zone the values are UTC instants; without, wall
            // times, which the loader reads as UTC (as it does CSV text).
            text::timestamp(value, *unit, out);
        }
        T::Date32 => text::date(array.as_primitive::<Date32Type>().value(row), out),
        T::Date64 => text::date_millis(array.as_primitive::<Date64Type>().value(row), out),
        _ => {}
    }
}
