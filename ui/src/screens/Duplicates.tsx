// The duplicates inbox: pairs of households that may be one family registered twice, ranked by
// score, in two bands (likely, possible), each with the reasons it was proposed (which fields
// agreed, and how closely). Opening a pair compares the two side by side.
import { useState } from "preact/hooks";
import { api, type DuplicatePair, type MatchReason, type Standing } from "../api";
import type { PairBand } from "../bindings/PairBand";
import { LoadError } from "../components/Errors";
import { useLoad } from "../components/useLoad";
import { faDigits } from "../format";
import { type Key, language, t } from "../i18n";

const BANDS: Record<PairBand, Key> = { likely: "bandLikely", possible: "bandPossible" };
const AGREEMENT: Record<string, Key> = { exact: "agreeExact", close: "agreeClose", differs: "agreeDiffers" };

export function BandBadge({ band }: { band: PairBand | null }) {
  if (!band) return null;
  return (
    <span class={`badge band-${band}`} data-band={band}>
      {t(BANDS[band])}
    </span>
  );
}

/** Why a pair was proposed: each field, how it agreed, and how much it weighed. */
export function Reasons({ reasons }: { reasons: MatchReason[] }) {
  return (
    <ul class="reasons">
      {reasons.map((r) => (
        <li key={r.field} class={`reason agree-${r.agreement}`} data-field={r.field} data-agreement={r.agreement}>
          {language() === "fa" ? r.label_fa : r.label_en}:{" "}
          {AGREEMENT[r.agreement] ? t(AGREEMENT[r.agreement]) : r.agreement}
          {r.similarity !== null && r.agreement === "close" && ` (${faDigits(Math.round(r.similarity * 100))}٪)`}
        </li>
      ))}
    </ul>
  );
}

/** A score as people read it: one decimal, Persian digits. */
export function score(s: number): string {
  return faDigits(s.toFixed(1)).replace(".", "٫");
}

export function Duplicates({ standing, compare }: { standing: Standing; compare: (a: string, b: string) => void }) {
  const [band, setBand] = useState<PairBand | "">("");
  const pairs = useLoad(() => api.duplicatePairs(band || null), [band]);
  return (
    <main class="screen" id="duplicates">
      <div class="toolbar">
        <h2>{t("navDuplicates")}</h2>
        <select
          id="duplicates-band"
          aria-label={t("band")}
          value={band}
          onChange={(e) => setBand(e.currentTarget.value as PairBand | "")}
        >
          <option value="">
            {t("band")}: {t("all")}
          </option>
          <option value="likely">{t("bandLikely")}</option>
          <option value="possible">{t("bandPossible")}</option>
        </select>
        {pairs.data && (
          <span class="count" id="duplicates-count">
            {faDigits(pairs.data.length)} {t("pairsCount")}
          </span>
        )}
        <span class="hint">{standing.role === "coordinator" ? t("duplicatesAcross") : t("duplicatesWithin")}</span>
      </div>
      {pairs.error && <LoadError error={pairs.error} retry={pairs.reload} />}
      {pairs.data && pairs.data.length === 0 && <p class="empty">{t("noPairs")}</p>}
      {pairs.data && (
        <ol class="items">
          {pairs.data.map((p: DuplicatePair) => (
            <li key={`${p.a.id}/${p.b.id}`} class="card pair" data-a={p.a.id} data-b={p.b.id} data-band={p.band}>
              <div class="item-head">
                <strong>{p.a.head_name}</strong>
                <span class="hint">
                  (<bdi>{p.a.assigned_group ?? "—"}</bdi>)
                </span>
                <span>⟷</span>
                <strong>{p.b.head_name}</strong>
                <span class="hint">
                  (<bdi>{p.b.assigned_group ?? "—"}</bdi>)
                </span>
                <BandBadge band={p.band} />
                <span>
                  {t("score")}: {score(p.score)}
                </span>
                <button type="button" class="compare" onClick={() => compare(p.a.id, p.b.id)}>
                  {t("compare")}
                </button>
              </div>
              <Reasons reasons={p.reasons} />
            </li>
          ))}
        </ol>
      )}
    </main>
  );
}
