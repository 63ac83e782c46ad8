-- Seed reply templates (统一回复口径, DOMAIN §4): every tenant starts with the same wording in zh-CN
-- and en, which it may then edit. The set lives here only: tenants created later get it from the
-- same function (reply-templates.repository.ts, at tenant creation), so the two never drift.
-- PL/pgSQL, not SQL: Citus cannot plan an SQL function's statement on a distributed table with
-- the function's parameters in it.
CREATE OR REPLACE FUNCTION seed_reply_templates(p_tenant_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO reply_templates (id, tenant_id, key, locale, name, subject, body)
  SELECT gen_random_uuid(), p_tenant_id, s.key, s.locale, s.name, s.subject, s.body
  FROM (VALUES
    ('acknowledgement', 'zh-CN', '受理确认', '您的投诉已受理（{{reference}}）',
     E'尊敬的{{customer.name}}：\n您的投诉（编号 {{reference}}）我们已经受理，将在 {{nextDueAt}} 前给您答复。感谢您的耐心。'),
    ('acknowledgement', 'en', 'Acknowledgement', 'We have received your complaint ({{reference}})',
     E'Dear {{customer.name}},\nWe have received your complaint {{reference}} and will reply by {{nextDueAt}}. Thank you for your patience.'),
    ('resolution_notice', 'zh-CN', '处理结果通知', '投诉处理结果（{{reference}}）',
     E'尊敬的{{customer.name}}：\n关于您的投诉（编号 {{reference}}），处理结果如下。\n处理措施：{{resolution.measures}}\n原因说明：{{resolution.reasons}}\n后续安排：{{resolution.followUpPlan}}'),
    ('resolution_notice', 'en', 'Resolution notice', 'The outcome of your complaint ({{reference}})',
     E'Dear {{customer.name}},\nHere is the outcome of your complaint {{reference}}.\nWhat we did: {{resolution.measures}}\nWhy: {{resolution.reasons}}\nWhat happens next: {{resolution.followUpPlan}}'),
    ('follow_up', 'zh-CN', '回访', NULL,
     E'尊敬的{{customer.name}}，您好！我们就投诉 {{reference}} 的处理结果进行回访，请问您对处理结果是否满意？'),
    ('follow_up', 'en', 'Follow-up visit', NULL,
     E'Dear {{customer.name}}, we are following up on complaint {{reference}}. Are you satisfied with how it was resolved?')
  ) AS s(key, locale, name, subject, body)
  ON CONFLICT (tenant_id, key, locale) DO NOTHING;
END
$$;
