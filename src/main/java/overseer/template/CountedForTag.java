package overseer.template;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.TagNode;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * {@code {% for %}} that charges each loop's items to the rendering's step budget: three nested
 * {@code range(1000)} loops print nothing yet take a billion steps. Past the budget loops stop.
 */
final class CountedForTag extends ForTag {
    @Override
    public String renderForCollection(
            TagNode tagNode, JinjavaInterpreter interpreter, List<String> loopVars, Object collection) {
        long items = switch (collection) {
            case Collection<?> c -> c.size();
            case Map<?, ?> m -> m.size();
            case Object[] a -> a.length;
            case null -> 0;
            default -> 1;
        };
        Printer printer = Printer.of(interpreter);
        if (printer != null && !printer.step(items)) {
            return "";
        }
        return super.renderForCollection(tagNode, interpreter, loopVars, collection);
    }
}
