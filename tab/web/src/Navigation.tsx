import { Tab, TabList, makeStyles, tokens } from '@fluentui/react-components';

export interface PageLink {
  id: string;
  label: string;
}

const useStyles = makeStyles({
  bar: { borderBottom: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`, paddingInline: tokens.spacingHorizontalL },
});

/** The tab's sections as a tab list: arrow keys move between them, Enter or Space opens one. */
export function Navigation({ pages, current, onSelect }: { pages: PageLink[]; current: string; onSelect(id: string): void }) {
  const styles = useStyles();
  return (
    <nav aria-label="Archiver" className={styles.bar}>
      <TabList selectedValue={current} onTabSelect={(_e, d) => onSelect(String(d.value))}>
        {pages.map((p) => (
          <Tab key={p.id} value={p.id}>
            {p.label}
          </Tab>
        ))}
      </TabList>
    </nav>
  );
}
