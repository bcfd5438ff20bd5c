/**
 * Just enough PromQL to check a Grafana dashboard against the metrics the code defines: which
 * metric names an expression selects, with which label matchers, and which labels it groups by.
 */

/** One metric an expression selects, and the labels its matcher names. */
export interface MetricReference {
  metric: string;
  labels: string[];
}

export interface QueryReferences {
  metrics: MetricReference[];
  /** Labels of `by`, `without`, `on`, `ignoring` and `group_*` clauses, and of `label_values(..., label)`. */
  groupedBy: string[];
}

/** Words that are PromQL, not metric names (aggregation modifiers, binary operators). */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

export function promqlReferences(expr: string): QueryReferences {
  const groupedBy: string[] = [];
  // Strings (Grafana variables live there) and range selectors carry no names.
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '');
  rest = rest.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, labels: string) => {
    groupedBy.push(...labelList(labels));
    return ' ';
  });
  // Grafana's label_values(<selector>, <label>).
  rest = rest.replace(/\blabel_values\s*\(([^,]*),\s*([\w]+)\s*\)/g, (_, selector: string, label: string) => {
    groupedBy.push(label);
    return ` ${selector} `;
  });
  const metrics: MetricReference[] = [];
  const pattern = /([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?(\s*\()?/g;
  for (const match of rest.matchAll(pattern)) {
    const [, name = '', matcher, call] = match;
    const before = rest[match.index - 1];
    // A function call, a keyword, a number's exponent or a label inside a matcher is no metric.
    if (call || KEYWORDS.has(name.toLowerCase()) || (before !== undefined && /[\w.]/.test(before))) continue;
    metrics.push({
      metric: name,
      labels: matcher ? labelList(matcher.slice(1, -1).replace(/(=~|!~|!=|=)\s*""/g, '')) : [],
    });
  }
  return { metrics, groupedBy };
}

function labelList(text: string): string[] {
  return text
    .split(',')
    .map((label) => label.trim())
    .filter((label) => label !== '');
}

/** Every PromQL expression of a dashboard: its panels' targets and its query variables. */
export function dashboardExpressions(dashboard: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) value.forEach((item) => visit(item));
    else if (typeof value === 'object' && value !== null) {
      for (const [childKey, child] of Object.entries(value)) visit(child, childKey);
    } else if (typeof value === 'string' && (key === 'expr' || key === 'definition')) found.push(value);
  };
  visit(dashboard);
  return found;
}

/** The SDK's (`temporal_*`) metrics a dashboard selects, with every label its queries use with them. */
export function dashboardSdkMetrics(dashboard: unknown): Array<{ metric: string; labels: string[] }> {
  return dashboardExpressions(dashboard).flatMap((expr) => {
    const { metrics, groupedBy } = promqlReferences(expr);
    return metrics
      .filter(({ metric }) => metric.startsWith('temporal_'))
      .map(({ metric, labels }) => ({ metric, labels: [...new Set([...labels, ...groupedBy])] }));
  });
}
