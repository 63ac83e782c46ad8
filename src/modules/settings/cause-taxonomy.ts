/**
 * The causes a complaint may be put down to (DOMAIN §6, 定期统计分析: statistics by cause find root
 * causes). A tenant keeps its own list in its workflow settings (`causes`); one that never set it
 * runs on these, from seed 003 §8.1.1 (造成顾客不满的常见因素), in Chinese and English.
 */

/** What kind of cause: the seed's three families, and whatever a tenant adds beside them. */
export const CAUSE_GROUPS = ['product_defect', 'service_failure', 'misuse', 'other'] as const;
export type CauseGroup = (typeof CAUSE_GROUPS)[number];

export interface Cause {
  /** Stable code, recorded on complaints and grouped by in statistics. */
  code: string;
  group: CauseGroup;
  labels: { zh: string; en: string };
}

export const DEFAULT_CAUSES: Cause[] = [
  // (1) 提供的产品不良: whose responsibility a defect is.
  {
    code: 'product_defect_maker',
    group: 'product_defect',
    labels: { zh: '产品不良(制造商的制造责任)', en: "Product defect: the maker's responsibility" },
  },
  {
    code: 'product_defect_seller',
    group: 'product_defect',
    labels: { zh: '产品不良(经营者的管理责任)', en: "Product defect: the seller's responsibility" },
  },
  {
    code: 'product_defect_customer',
    group: 'product_defect',
    labels: { zh: '产品不良(消费者自身的责任)', en: "Product defect: the customer's own responsibility" },
  },
  // (2) 服务: failures of the service itself.
  {
    code: 'improper_handling',
    group: 'service_failure',
    labels: { zh: '应对不得体', en: 'Improper handling' },
  },
  { code: 'poor_attitude', group: 'service_failure', labels: { zh: '态度不好', en: 'Poor attitude' } },
  {
    code: 'staff_misconduct',
    group: 'service_failure',
    labels: { zh: '员工自身的不良行为', en: 'Staff misconduct' },
  },
  {
    code: 'insufficient_explanation',
    group: 'service_failure',
    labels: { zh: '说明不足', en: 'Insufficient explanation' },
  },
  { code: 'money_error', group: 'service_failure', labels: { zh: '金钱上的疏忽', en: 'Money errors' } },
  { code: 'packaging', group: 'service_failure', labels: { zh: '礼品包装不当', en: 'Improper packaging' } },
  {
    code: 'broken_promise',
    group: 'service_failure',
    labels: { zh: '不遵守双方的约定', en: 'Broken promises' },
  },
  { code: 'delivery', group: 'service_failure', labels: { zh: '运送不当', en: 'Improper delivery' } },
  {
    code: 'label_mismatch',
    group: 'service_failure',
    labels: { zh: '商品标示与内容不符', en: 'Label does not match the contents' },
  },
  // (3) 使用新产品、新材料不当.
  {
    code: 'new_product_misuse',
    group: 'misuse',
    labels: { zh: '使用新产品、新材料不当', en: 'Misuse of new products or materials' },
  },
];

/** Whether `code` is one of the tenant's causes. */
export function isKnownCause(causes: readonly Cause[], code: string): boolean {
  return causes.some((cause) => cause.code === code);
}
