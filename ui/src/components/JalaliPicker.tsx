// A Jalali date field: typed in any digits, or picked from a month grid that opens on the
// month of what is in the field.
import { jalaaliMonthLength } from "jalaali-js";
import { useState } from "preact/hooks";
import { faDigits, jalaliToIso, normaliseJalali, todayJalali } from "../format";
import { t } from "../i18n";

const WEEKDAYS = ["ش", "ی", "د", "س", "چ", "پ", "ج"];

/** A month grid that fills a date field; typing the date works as well. */
export function JalaliPicker({ value, onPick, id }: { value: string; onPick: (date: string) => void; id: string }) {
  const [open, setOpen] = useState(false);
  const start = normaliseJalali(value) ?? todayJalali();
  const [year, setYear] = useState(Number(start.slice(0, 4)));
  const [month, setMonth] = useState(Number(start.slice(5, 7)));
  const days = jalaaliMonthLength(year, month);
  // Saturday is the first day of the Persian week.
  const first = new Date(`${jalaliToIso(year, month, 1)}T12:00:00`).getDay();
  const offset = (first + 1) % 7;
  const shift = (delta: number) => {
    const m = month + delta;
    setYear(year + Math.floor((m - 1) / 12));
    setMonth(((((m - 1) % 12) + 12) % 12) + 1);
  };
  const toggle = () => {
    if (!open) {
      // Open on the month of what is in the field now.
      const shown = normaliseJalali(value) ?? todayJalali();
      setYear(Number(shown.slice(0, 4)));
      setMonth(Number(shown.slice(5, 7)));
    }
    setOpen(!open);
  };
  return (
    <span class="picker">
      <button type="button" class="secondary" id={`${id}-picker`} aria-label={t("calendar")} onClick={toggle}>
        {t("calendar")}
      </button>
      {open && (
        <div class="calendar" role="dialog">
          <div class="calendar-head">
            <button type="button" class="link" onClick={() => shift(-1)}>
              ‹
            </button>
            <span>{faDigits(`${year}/${String(month).padStart(2, "0")}`)}</span>
            <button type="button" class="link" onClick={() => shift(1)}>
              ›
            </button>
          </div>
          <div class="calendar-grid">
            {WEEKDAYS.map((d) => (
              <b key={d}>{d}</b>
            ))}
            {Array.from({ length: offset }, (_, i) => (
              <span key={`e${i}`} />
            ))}
            {Array.from({ length: days }, (_, i) => (
              <button
                type="button"
                key={i}
                class="day"
                data-day={i + 1}
                onClick={() => {
                  onPick(faDigits(`${year}/${String(month).padStart(2, "0")}/${String(i + 1).padStart(2, "0")}`));
                  setOpen(false);
                }}
              >
                {faDigits(i + 1)}
              </button>
            ))}
          </div>
        </div>
      )}
    </span>
  );
}

/** A labelled Jalali date input with its picker. */
export function DateInput({
  id,
  label,
  value,
  onChange,
  pickFrom,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** The date the picker opens on when the field is empty. */
  pickFrom?: string;
}) {
  return (
    <label>
      {label}
      <span class="with-picker">
        <input id={id} value={value} onInput={(e) => onChange(e.currentTarget.value)} />
        <JalaliPicker id={id} value={value || pickFrom || ""} onPick={onChange} />
      </span>
    </label>
  );
}
