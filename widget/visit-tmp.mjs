import { chromium } from "playwright-core";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--headless=new"] });
const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
await page.goto("http://127.0.0.1:8090/demo");
await page.locator("[data-testid=sb-launcher]").click();
await page.locator("[data-testid=sb-name]").fill("Wile E. Coyote");
await page.locator("[data-testid=sb-email]").fill("wile@example.com");
const options = await page.locator("[data-testid=sb-topic] option").allTextContents();
console.log("topics:", options);
await page.locator("[data-testid=sb-question]").fill("My rocket skates <b>won't</b> stop. <img src=x onerror=alert(1)>");
await page.locator("[data-testid=sb-start]").click();
await page.waitForTimeout(3000);
await page.screenshot({ path: "/tmp/visit/demo-2.png" });
console.log("widget text:", await page.evaluate(() => [...document.querySelectorAll("*")].find((e) => e.shadowRoot).shadowRoot.textContent.slice(0, 500)));
// Stay a while so the operator can answer.
await page.waitForTimeout(40000);
await page.screenshot({ path: "/tmp/visit/demo-3.png" });
console.log("widget text later:", await page.evaluate(() => [...document.querySelectorAll("*")].find((e) => e.shadowRoot).shadowRoot.textContent.slice(0, 800)));
await browser.close();
