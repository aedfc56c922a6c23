import { readMappingCsv } from './importer/mapping/csvMapping';
(async () => {
  const show = async (s: string | Buffer) => { try { const r = await readMappingCsv(s, { defaultCountry: 'GB' }); console.log(JSON.stringify({ e: r.entries, p: r.problems, h: r.header, d: r.delimiter, rows: r.rows, rep: r.repeated })); } catch (e) { console.log('ERR', (e as any).reason, (e as Error).message); } };
  await show('External User ID,Microsoft 365 User Mailbox\r\n445204334324,susan@company.com\r\n');
  await show('\uFEFFMobile Number;Email\r\n"07700 900123 ";" Bob@Company.com "\r\n\r\n+44 7700 900124;x@y.com\r\n+44 7700 900124;z@y.com\r\nabc;nope\r\n');
  await show('445204334324,susan@company.com\n445204334325,bob@company.com\n');
  await show('Phone,UPN\n');
  await show('');
  await show(Buffer.from([0x50,0x4b,3,4,0,0,0xff,0xfe]));
  await show('Phone\tUPN\tDept\n"+1 415 555 0100"\ta@b.com\tx\n');
  await show('Phone,UPN\n"1,a@b.com\n');
  const big = 'Phone,UPN\n' + '447700900123,someone.with.a.long.name@company.example\n'.repeat(200000);
  await show(big);
  const rows = ['External User ID,Microsoft 365 User Mailbox']; for (let i=0;i<100000;i++) rows.push(`4477009${String(i).padStart(5,'0')},user${i}@contoso.example`);
  const t = Date.now(); const r = await readMappingCsv(rows.join('\r\n')); console.log('100k', Date.now()-t, r.entries.length, r.problems.length);
})();
